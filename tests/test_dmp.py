"""Third-party (DMP) audiences: memberships land on the right persons and visitors with their
provenance, unmatched rows stay out, first-party data never moves, and expiry ends them.

The expected memberships are recomputed here from the raw audience files and the published
identity and visitor tables, without the dbt models' SQL.
"""

import csv
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from klant.definitions import build_definitions
from klant.ingest.loader import load_source
from klant.ingest.sources import DMP
from klant.settings import SAMPLE_AS_OF, Settings
from tests.conftest import SEEDS, clone_build

pytestmark = pytest.mark.slow

GOLDEN_FIELDS = (
    "first_name", "last_name", "email", "phone", "street", "postal_code", "city", "country",
    "company", "lifecycle_stage", "consent_email", "consent_advertising",
    "consent_personalization",
)  # fmt: skip
FIRST_PARTY_SOURCES = {"crm", "commerce", "web"}
MART_COLUMNS = (
    "profile_id, person_id, visitor_id, audience_code, audience_name, provider, fetched_at, "
    "expires_at, matched_by"
)
Membership = tuple  # a row of fct_audience_memberships, in MART_COLUMNS order


def query(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def utc(text: str) -> datetime:
    """An ISO 8601 time with offset as naive UTC, as the warehouse stores it."""
    return datetime.fromisoformat(text.strip()).astimezone(UTC).replace(tzinfo=None)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def raw_rows(landing: Path) -> list[dict[str, str]]:
    rows = []
    for path in sorted((landing / "dmp").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def matcher(settings: Settings):
    """A function from a raw row to (person_id, visitor_id, matched_by), or None."""
    identifiers = query(
        settings,
        "select identifier_type, identifier_value, person_id from dim_person_identifiers "
        "where identifier_type in ('anonymous_id', 'email')",
    )
    cookies = {value: person for kind, value, person in identifiers if kind == "anonymous_id"}
    emails = {sha256(value): person for kind, value, person in identifiers if kind == "email"}
    visitors = dict(query(settings, "select anonymous_id, visitor_id from dim_visitors"))

    def match(row: dict[str, str]) -> tuple[str | None, str | None, str] | None:
        cookie, hashed = row["cookie_id"].strip(), row["hashed_email"].strip().lower()
        if cookie in cookies:
            return cookies[cookie], None, "cookie"
        if hashed in emails:
            return emails[hashed], None, "hashed_email"
        if cookie in visitors:
            return None, visitors[cookie], "cookie"
        return None

    return match


def expected_memberships(
    rows: Iterable[dict[str, str]], match, as_of: datetime
) -> tuple[set[Membership], int, int]:
    """Active memberships (the newest fetch known at as_of wins), unmatched rows, refetches."""
    newest: dict[tuple[str, str, str], tuple] = {}
    unmatched = fetches = 0
    for row in rows:
        found = match(row)
        if found is None:
            unmatched += 1
            continue
        person, visitor, matched_by = found
        fetched, expires = utc(row["fetched_at"]), utc(row["expires_at"])
        if fetched > as_of:
            continue
        key = (person or visitor, row["audience_code"], row["provider"])
        rank = (fetched, expires, matched_by == "cookie")
        if key in newest:
            fetches += 1
            if newest[key][0] >= rank:
                continue
        membership = (*key[:1], person, visitor, key[1], row["audience_name"], key[2])
        newest[key] = (rank, (*membership, fetched, expires, matched_by))
    active = {member for _, member in newest.values() if member[7] > as_of}
    return active, unmatched, fetches


def audience_lists(memberships: set[Membership]) -> dict[str, tuple[str, int]]:
    """profile_id -> (sorted distinct codes joined by ', ', how many)."""
    codes: dict[str, set[str]] = {}
    for member in memberships:
        codes.setdefault(member[0], set()).add(member[3])
    return {key: (", ".join(sorted(found)), len(found)) for key, found in codes.items()}


def golden(settings: Settings) -> dict[tuple[str, str], tuple]:
    """(person_id, field) -> (value, source, updated_at) of every golden field."""
    columns = ", ".join(f"{field}, {field}_source, {field}_updated_at" for field in GOLDEN_FIELDS)
    return {
        (row[0], field): row[1 + 3 * i : 4 + 3 * i]
        for row in query(settings, f"select person_id, {columns} from dim_profiles")
        for i, field in enumerate(GOLDEN_FIELDS)
    }


def test_a_dmp_row_with_a_bad_hash_or_expiry_before_fetch_is_quarantined(tmp_path: Path):
    source = next((SEEDS / "dmp").glob("audiencehub-*-11-27.csv"))
    landing = tmp_path / "landing"
    (landing / "dmp").mkdir(parents=True)
    good = source.read_text(encoding="utf-8")
    fetched = "2026-11-27T06:00:00+01:00"
    bad = [
        f"c-1,not-a-hash,affinity/travel,Travel,audiencehub,{fetched},2027-01-10T06:00:00+01:00",
        f"c-2,,affinity/travel,Travel,audiencehub,{fetched},2026-11-27T05:59:59+01:00",
        f",,affinity/travel,Travel,audiencehub,{fetched},2027-01-10T06:00:00+01:00",
    ]
    (landing / "dmp" / "feed.csv").write_text(good + "\n".join(bad) + "\n", encoding="utf-8")
    good_rows = good.count("\n") - 1
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    try:
        (result,) = load_source(con, DMP, landing)
        quarantined = con.execute(
            "select line_number, reason, raw_line from raw.quarantine order by line_number"
        ).fetchall()
        loaded = con.execute("select count(*) from raw.dmp_audiences").fetchone()[0]
    finally:
        con.close()
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", good_rows, 3)
    assert loaded == good_rows
    assert [line for line, _, _ in quarantined] == [good_rows + 2, good_rows + 3, good_rows + 4]
    hash_reason, expiry_reason, identifier_reason = (reason for _, reason, _ in quarantined)
    assert "hashed_email" in hash_reason and "SHA-256" in hash_reason
    assert "expires_at" in expiry_reason and "not after fetched_at" in expiry_reason
    assert "cookie_id" in identifier_reason and "hashed_email" in identifier_reason
    assert [text for _, _, text in quarantined] == bad


def test_dmp_memberships_land_on_profiles_and_end_at_expiry(
    sample_build: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    as_of = datetime.fromisoformat(SAMPLE_AS_OF)
    rows = raw_rows(sample_build.landing_dir)
    match = matcher(sample_build)
    expected, unmatched, refetched = expected_memberships(rows, match, as_of)
    published = set(query(sample_build, f"select {MART_COLUMNS} from fct_audience_memberships"))

    # the sample feed exercises every path: persons by cookie and by hash, visitors, strangers,
    # memberships fetched twice and memberships already expired
    assert published == expected
    by_kind = {(m[1] is not None, m[8]) for m in published}
    assert by_kind == {(True, "cookie"), (True, "hashed_email"), (False, "cookie")}
    assert unmatched > 0 and refetched > 0
    assert any(utc(row["expires_at"]) <= as_of for row in rows)
    strangers = {row["cookie_id"] for row in rows if row["cookie_id"] and match(row) is None}
    assert strangers and not {f"kv_{cookie}" for cookie in strangers} & {m[0] for m in published}

    # the dims list the active codes, each once, sorted; null and 0 without any
    lists = audience_lists(expected)
    for table, key in (("dim_profiles", "person_id"), ("dim_visitors", "visitor_id")):
        found = query(
            sample_build, f"select {key}, dmp_audience_codes, dmp_audience_count from {table}"
        )
        assert {k: (codes, count) for k, codes, count in found if codes is not None} == {
            k: v for k, v in lists.items() if k.startswith("kp_" if key == "person_id" else "kv_")
        }
        assert all(count == 0 for _, codes, count in found if codes is None)
    before = golden(sample_build)
    assert {source for _, source, _ in before.values()} <= FIRST_PARTY_SOURCES | {None}

    # a DMP that claims one person's cookie with another person's e-mail, and a visitor's
    # cookie with that e-mail: were DMP data fed to identity, these people would merge
    clone = clone_build(sample_build, tmp_path)
    persons = query(
        sample_build,
        "select a.identifier_value, e.identifier_value, e.person_id from dim_person_identifiers a "
        "join dim_person_identifiers e on e.person_id <> a.person_id "
        "where a.identifier_type = 'anonymous_id' and e.identifier_type = 'email' "
        "order by a.identifier_key, e.identifier_key limit 1",
    )
    (cookie, email, email_person) = persons[0]
    (visitor_cookie,) = query(sample_build, "select min(anonymous_id) from dim_visitors")[0]
    fetched, expires = "2026-11-28T00:00:00+00:00", "2026-12-31T00:00:00+00:00"
    with (clone.landing_dir / "dmp" / "tempter-audiences-2026-11-28.csv").open("w") as handle:
        handle.write("cookie_id,hashed_email,audience_code,audience_name,provider,fetched_at,")
        handle.write("expires_at\n")
        for device in (cookie, visitor_cookie):
            handle.write(f"{device},{sha256(email)},affinity/travel,Travel,tempter,{fetched},")
            handle.write(f"{expires}\n")

    # past the last expiry every membership is gone at the next run
    latest = max(utc(row["expires_at"]) for row in raw_rows(clone.landing_dir))
    later = latest + timedelta(seconds=1)
    monkeypatch.setenv("KLANT_LANDING_DIR", str(clone.landing_dir))
    monkeypatch.setenv("KLANT_WAREHOUSE_DIR", str(clone.warehouse_dir))
    monkeypatch.delenv("KLANT_EXPORTS_DIR", raising=False)
    monkeypatch.setenv("KLANT_AS_OF", f"{later:%Y-%m-%d %H:%M:%S}")
    # the visitors stay (not past their own retention) so that their rows show the codes gone;
    # every membership ending at once only warns (audit.WARN_ONLY_VOLUME)
    monkeypatch.setenv("KLANT_VISITOR_RETENTION_DAYS", "3650")
    defs: dg.Definitions = build_definitions()
    result = defs.resolve_job_def("klant_full").execute_in_process(raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]

    assert query(clone, "select count(*) from fct_audience_memberships") == [(0,)]
    had_codes = {member[0] for member in published}
    for table, key in (("dim_profiles", "person_id"), ("dim_visitors", "visitor_id")):
        found = query(clone, f"select {key}, dmp_audience_codes, dmp_audience_count from {table}")
        assert found and all(codes is None and count == 0 for _, codes, count in found), table
        # the profiles that had codes are still there, without them
        prefix = "kp_" if key == "person_id" else "kv_"
        assert {p for p in had_codes if p.startswith(prefix)} <= {k for k, _, _ in found}, table
    # first-party data did not move: same golden record, same people
    assert golden(clone) == before
    owners = dict(
        query(
            clone,
            "select identifier_key, person_id from dim_person_identifiers where identifier_key in "
            f"('anonymous_id:{cookie}', 'email:{email}', 'anonymous_id:{visitor_cookie}')",
        )
    )
    assert owners[f"email:{email}"] == email_person != owners[f"anonymous_id:{cookie}"]
    assert f"anonymous_id:{visitor_cookie}" not in owners
