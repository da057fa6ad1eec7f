"""The golden record against an independent reading of the sample exports.

The full job runs once on the sample. The test then reads the CRM and Shopify CSVs and the web
JSON lines itself (pandas, no klant code), gives each record the person int_records_resolved
gives it, applies the rules of the profile_survivorship seed in Python, and compares every
person's int_profiles_golden row with the result, field by field. Phones are left out: reading
them needs the phone-number rules of the identity dictionary, which test_normalize covers.
"""

import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from email_validator import EmailNotValidError, validate_email

from klant.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.slow

DBT_SEEDS = REPO_ROOT / "dbt_project" / "seeds"
FIELDS = (
    "first_name", "last_name", "email", "phone", "street", "postal_code", "city", "country",
    "company", "lifecycle_stage", "consent_email", "consent_advertising",
    "consent_personalization",
)  # fmt: skip
CHECKED = tuple(f for f in FIELDS if f != "phone")
CONSENT = ("consent_email", "consent_advertising", "consent_personalization")

HUBSPOT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$")
SHOPIFY_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


@dataclass(frozen=True)
class Candidate:
    """A value one record states for one field of one person."""

    person_id: str
    field: str
    value: str
    source: str
    record_key: str
    observed_at: datetime | None

    @property
    def is_well_formed(self) -> bool:
        """False for a name typed all in lower or all in upper case."""
        if self.field not in ("first_name", "last_name"):
            return True
        return self.value not in (self.value.lower(), self.value.upper())


@dataclass
class Build:
    """A finished build: its database and the landing folder it read."""

    con: duckdb.DuckDBPyConnection
    landing: Path


@pytest.fixture(scope="module")
def build(sample_build: Settings) -> Iterator[Build]:
    """The sample exports through the full job (once per session, shared read-only)."""
    with duckdb.connect(str(sample_build.build_db), read_only=True) as con:
        yield Build(con, sample_build.landing_dir)


@pytest.fixture(scope="module")
def candidates(build: Build) -> set[Candidate]:
    return read_candidates(build)


# --- reading the exports ---------------------------------------------------------------------


def text(value: object) -> str | None:
    """A field as the staging models read it: trimmed of spaces, empty as missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value).strip(" ") or None


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def hubspot_time(value: str | None) -> datetime | None:
    value = text(value)
    if value is None or not HUBSPOT_TIME.match(value):
        return None
    return datetime.fromisoformat(value)


def shopify_time(value: str | None) -> datetime | None:
    value = text(value)
    if value is None or not SHOPIFY_TIME.match(value):
        return None
    return utc(datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z"))


def iso_time(value: object) -> datetime | None:
    value = text(value)
    if value is None or not ISO_TIME.match(value):
        return None
    return utc(datetime.fromisoformat(value))


def email(value: object) -> str | None:
    value = str(value).strip() if isinstance(value, str) else ""
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def consent(value: object) -> str | None:
    """A consent statement as 'true' or 'false'; anything else states nothing."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower()
    return None


def country_codes() -> dict[str, str]:
    aliases = pd.read_csv(DBT_SEEDS / "country_aliases.csv", dtype=str, keep_default_na=False)
    codes: dict[str, str] = {}
    for alias, code in zip(aliases["alias"], aliases["country_code"], strict=True):
        key = alias.strip().lower()
        codes[key] = min(code, codes.get(key, code))
    return codes


def read_csv(landing: Path, folder: str, quarantined: set[tuple[str, int]]) -> pd.DataFrame:
    """Every data row of a folder's CSVs with its file and first line; refused lines skipped."""
    frames = []
    for path in sorted((landing / folder).glob("*.csv")):
        name = f"{folder}/{path.name}"
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader)
            rows, start = [], reader.line_num + 1
            for row in reader:
                if (name, start) not in quarantined:
                    rows.append([*row, name, start])
                start = reader.line_num + 1
        frames.append(pd.DataFrame(rows, columns=[*header, "file", "line"]))
    return pd.concat(frames, ignore_index=True).replace("", None)


def read_events(landing: Path, quarantined: set[tuple[str, int]]) -> list[dict]:
    """Every web event once (its first delivery); refused lines skipped."""
    events, seen = [], set()
    for path in sorted((landing / "web").glob("*.jsonl")):
        name = f"web/{path.name}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if (name, number) in quarantined:
                continue
            event = json.loads(line)
            message_id = text(event.get("messageId"))
            if message_id is None or message_id in seen:
                continue
            seen.add(message_id)
            context = event.get("context") or {}
            preferences = (context.get("consent") or {}).get("categoryPreferences") or {}
            traits, properties = event.get("traits") or {}, event.get("properties") or {}
            events.append(
                {
                    "message_id": message_id,
                    "event_at": iso_time(event.get("timestamp")),
                    "first_name": text(traits.get("firstName")),
                    "last_name": text(traits.get("lastName")),
                    "emails": {email(traits.get("email")), email(properties.get("email"))},
                    "consent_advertising": consent(preferences.get("advertising")),
                    "consent_personalization": consent(preferences.get("personalization")),
                }
            )
    return events


def read_candidates(build: Build) -> set[Candidate]:
    """Every value the exports state for a golden-record field, with the record's person."""
    con, landing = build.con, build.landing
    quarantined = set(con.execute("select source_file, line_number from raw.quarantine").fetchall())
    persons = {
        (source, key): person
        for source, key, person in con.execute(
            "select source, record_key, person_id from intermediate.int_records_resolved"
        ).fetchall()
    }
    # an e-mail is a candidate only when the identity rules kept it for the record's person
    kept_emails = set(
        con.execute(
            "select identifier_value, person_id from marts.dim_person_identifiers "
            "where identifier_type = 'email'"
        ).fetchall()
    )
    codes = country_codes()
    candidates: set[Candidate] = set()

    def add(source: str, key: str, at: datetime | None, values: dict[str, str | None]) -> None:
        person = persons.get((source, key))
        for field, value in values.items():
            if person is None or value is None:
                continue
            if field == "email" and (value, person) not in kept_emails:
                continue
            candidates.add(Candidate(person, field, value, source, key, at))

    contacts = read_csv(landing, "crm", quarantined)
    contacts["contact_id"] = contacts["Record ID"].map(text)
    contacts["modified_at"] = contacts["Last Modified Date"].map(hubspot_time)
    contacts["created_at"] = contacts["Create Date"].map(hubspot_time)
    contacts["has_modified"] = contacts["modified_at"].notna()
    newest = contacts.sort_values(
        ["has_modified", "modified_at", "line"], ascending=False, na_position="last"
    ).drop_duplicates("contact_id")
    for row in newest.to_dict("records"):
        at = row["modified_at"] if row["has_modified"] else row["created_at"]
        country = text(row["Country/Region"])
        add("crm", row["contact_id"], None if pd.isna(at) else at, {
            "first_name": text(row["First Name"]),
            "last_name": text(row["Last Name"]),
            "email": email(row["Email"]),
            "street": text(row["Street Address"]),
            "postal_code": text(row["Postal Code"]),
            "city": text(row["City"]),
            "country": codes.get(country.lower()) if country else None,
            "company": text(row["Company Name"]),
            "lifecycle_stage": text(row["Lifecycle Stage"]),
            "consent_email": consent(row["Marketing email opt-in"]),
        })  # fmt: skip

    rows = read_csv(landing, "commerce", quarantined)
    rows["order_name"] = rows["Name"].map(text)
    rows["is_header"] = rows["Financial Status"].notna() | rows["Total"].notna()
    headers = rows.sort_values(["is_header", "line"], ascending=[False, True])
    for row in headers.drop_duplicates("order_name").to_dict("records"):
        name = text(row["Billing Name"])
        first, _, rest = (name or "").partition(" ")
        country = text(row["Billing Country"])
        marketing = (text(row["Accepts Marketing"]) or "").lower()
        add("commerce", row["order_name"], shopify_time(row["Created at"]), {
            "first_name": text(first),
            "last_name": text(rest),
            "email": email(row["Email"]),
            "street": text(row["Billing Street"]),
            "postal_code": text(row["Billing Zip"]),
            "city": text(row["Billing City"]),
            "country": codes.get(country.lower()) if country else None,
            "company": text(row["Billing Company"]),
            "consent_email": {"yes": "true", "no": "false"}.get(marketing),
        })  # fmt: skip

    for event in read_events(landing, quarantined):
        for address in event["emails"] - {None}:
            add("web", event["message_id"], event["event_at"], {"email": address})
        add("web", event["message_id"], event["event_at"], {
            field: event[field]
            for field in ("first_name", "last_name", "consent_advertising",
                          "consent_personalization")
        })  # fmt: skip
    return candidates


# --- the rules, written from the seed's description -------------------------------------------


def read_rules() -> dict[str, tuple[str, list[str]]]:
    with (DBT_SEEDS / "profile_survivorship.csv").open(newline="", encoding="utf-8") as f:
        return {
            row["attribute"]: (row["rule"], [s.strip() for s in row["source_order"].split(">")])
            for row in csv.DictReader(f)
        }


def latest(candidates: list[Candidate]) -> list[Candidate]:
    known = [c for c in candidates if c.observed_at is not None]
    if not known:
        return candidates
    newest = max(c.observed_at for c in known)
    return [c for c in known if c.observed_at == newest]


def earliest(candidates: list[Candidate]) -> list[Candidate]:
    known = [c for c in candidates if c.observed_at is not None]
    if not known:
        return candidates
    first = min(c.observed_at for c in known)
    return [c for c in known if c.observed_at == first]


def best_source(candidates: list[Candidate], order: list[str]) -> list[Candidate]:
    best = min(order.index(c.source) for c in candidates)
    return [c for c in candidates if order.index(c.source) == best]


def pick(rule: str, order: list[str], candidates: list[Candidate]) -> Candidate | None:
    """The surviving value: the rule, then the source order, then the smallest value."""
    candidates = [c for c in candidates if c.source in order]
    if not candidates:
        return None
    if rule.startswith("follow:"):
        raise AssertionError(f"{rule} needs its leader's winner: use pick_following")
    if rule == "source_priority":
        pool = best_source(candidates, order)
        pool = [c for c in pool if c.is_well_formed] or pool
        pool = latest(pool)
    else:
        pool = [c for c in candidates if c.is_well_formed] or candidates
        if rule == "most_recent":
            pool = best_source(latest(pool), order)
        elif rule == "earliest":
            pool = best_source(earliest(pool), order)
        elif rule == "most_frequent":
            records = defaultdict(list)
            for c in pool:
                records[c.value].append(c)
            most = max(len(r) for r in records.values())
            tied = [c for r in records.values() if len(r) == most for c in r]
            pool = best_source(latest(tied), order)
        else:
            raise AssertionError(f"unknown rule {rule}")
    return min(pool, key=lambda c: (c.value, c.record_key))


def pick_following(
    order: list[str], candidates: list[Candidate], leader: Candidate | None
) -> Candidate | None:
    """follow:<field>: the value of the record that won <field>, else source_priority."""
    if leader is not None:
        same_record = [
            c
            for c in candidates
            if (c.source, c.record_key) == (leader.source, leader.record_key) and c.source in order
        ]
        if same_record:
            pool = [c for c in same_record if c.is_well_formed] or same_record
            return min(pool, key=lambda c: c.value)
    return pick("source_priority", order, candidates)


def pick_all(
    rules: dict[str, tuple[str, list[str]]], by_field: dict[str, list[Candidate]]
) -> dict[str, Candidate | None]:
    """One person's winner for every field: the fields with a rule of their own, then the
    fields that follow one of them."""
    winners: dict[str, Candidate | None] = {}
    for field, (rule, order) in rules.items():
        if not rule.startswith("follow:"):
            winners[field] = pick(rule, order, by_field.get(field, []))
    for field, (rule, order) in rules.items():
        if rule.startswith("follow:"):
            leader = rule.removeprefix("follow:")
            assert not rules[leader][0].startswith("follow:"), f"{field} follows a follower"
            winners[field] = pick_following(order, by_field.get(field, []), winners[leader])
    return winners


# --- the tests -------------------------------------------------------------------------------


def golden_rows(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    frame = con.execute("select * from intermediate.int_profiles_golden").df()
    frame = frame.astype(object).where(frame.notna(), None)
    rows = {row["person_id"]: row for row in frame.to_dict("records")}
    for row in rows.values():
        for field in CONSENT:
            if row[field] is not None:
                row[field] = str(bool(row[field])).lower()
        for field in FIELDS:
            at = row[f"{field}_updated_at"]
            row[f"{field}_updated_at"] = None if at is None else pd.Timestamp(at).to_pydatetime()
    return rows


def test_one_golden_row_per_person(build: Build):
    sql = "select person_id from {}"
    persons = build.con.execute(sql.format("marts.dim_person_identifiers")).fetchall()
    golden = build.con.execute(sql.format("intermediate.int_profiles_golden")).fetchall()
    assert len(golden) == len(set(golden))
    assert set(golden) == set(persons)


def test_golden_fields_follow_their_rules(build: Build, candidates: set[Candidate]):
    rules = read_rules()
    assert set(rules) == set(FIELDS)
    by_person: dict[str, dict[str, list[Candidate]]] = defaultdict(lambda: defaultdict(list))
    for c in candidates:
        by_person[c.person_id][c.field].append(c)

    mismatches, filled = [], defaultdict(int)
    for person, row in golden_rows(build.con).items():
        winners = pick_all(rules, by_person[person])
        for field in CHECKED:
            winner = winners[field]
            expected = (winner.value, winner.source, winner.observed_at) if winner else None
            got = (row[field], row[f"{field}_source"], row[f"{field}_updated_at"])
            if got == (None, None, None):
                got = None
            else:
                filled[field] += 1
            if got != expected:
                mismatches.append((person, field, got, expected))
    assert not mismatches, f"{len(mismatches)} golden values differ: {mismatches[:10]}"
    # every field is stated for some person, so no comparison above is vacuous
    assert set(filled) == set(CHECKED), filled


def test_golden_values_point_at_a_record_that_states_them(build: Build, candidates: set[Candidate]):
    stated = {(c.person_id, c.field, c.value, c.source, c.observed_at) for c in candidates}
    records = set(
        build.con.execute(
            "select person_id, source, observed_at from intermediate.int_records_resolved"
        ).fetchall()
    )
    missing = []
    for person, row in golden_rows(build.con).items():
        for field in CHECKED:
            value, source, at = row[field], row[f"{field}_source"], row[f"{field}_updated_at"]
            if value is None:
                assert source is None and at is None, (person, field)
                continue
            claim = (person, field, value, source, at)
            if claim not in stated or (person, source, at) not in records:
                missing.append(claim)
    assert not missing, f"{len(missing)} golden values no record states: {missing[:10]}"


def test_followers_come_from_their_leaders_record(build: Build, candidates: set[Candidate]):
    """An address is one record's: no golden city or postal code beside a street of another
    record that states its own (the seed has postal_code and city follow:street)."""
    rules = read_rules()
    follows = {
        field: rule.removeprefix("follow:")
        for field, (rule, _) in rules.items()
        if rule.startswith("follow:")
    }
    assert {"postal_code", "city"} <= set(follows)
    # what each record states, by the record's person, source and time (as golden rows hold it)
    stated: dict[tuple[str, str, datetime | None, str], set[tuple[str, str]]] = defaultdict(set)
    for c in candidates:
        stated[(c.person_id, c.source, c.observed_at, c.field)].add((c.record_key, c.value))

    mixed, checked = [], 0
    for person, row in golden_rows(build.con).items():
        for field, leader in follows.items():
            if row[leader] is None:
                continue
            at = (person, row[f"{leader}_source"], row[f"{leader}_updated_at"])
            records = {key for key, value in stated[(*at, leader)] if value == row[leader]}
            own = {value for key, value in stated[(*at, field)] if key in records}
            if not own:
                continue
            checked += 1
            got = (row[field], row[f"{field}_source"], row[f"{field}_updated_at"])
            if got[0] not in own or got[1:] != at[1:]:
                mixed.append((person, field, leader))
    assert checked > 0
    assert not mixed, f"{len(mixed)} golden values mix records: {mixed[:10]}"
