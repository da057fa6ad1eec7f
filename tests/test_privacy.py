"""Erasure and retention end to end: nothing of an erased person or an expired visitor is left.

Each scenario copies the session's sample build and runs the full job on the copy. The scans
read every text column of every table of the build file and of every published snapshot, and
every file under the exports folder; before the change they must find the traces (so the scan
can fail), after it they must find none.
"""

import csv
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from klant.definitions import build_definitions
from klant.ingest.loader import ensure_raw_schema, load_source
from klant.ingest.sources import PRIVACY
from klant.privacy import retention
from klant.privacy.keys import keyed_hash, privacy_key, request_transform
from klant.settings import SAMPLE_AS_OF, Settings
from tests.conftest import clone_build

pytestmark = pytest.mark.slow


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_job(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dg.ExecuteInProcessResult:
    monkeypatch.setenv("KLANT_LANDING_DIR", str(settings.landing_dir))
    monkeypatch.setenv("KLANT_WAREHOUSE_DIR", str(settings.warehouse_dir))
    monkeypatch.delenv("KLANT_EXPORTS_DIR", raising=False)
    job = build_definitions().resolve_job_def("klant_full")
    result = job.execute_in_process(raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    return result


def query(path: Path, sql: str, *params) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def duckdb_traces(
    path: Path, equal: set[str], contained: set[str], name: tuple[str, str] | None = None
) -> list[str]:
    """schema.table.column where a text value equals or contains a token (or a row holds the
    first and the last name), in every table of one DuckDB file."""
    found = []
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute(
            "create temp table tokens as select unnest(?::varchar[]) as token", [sorted(equal)]
        )
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_catalog = current_database()"
        ).fetchall()
        for schema, table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? and data_type = 'VARCHAR'",
                    [schema, table],
                ).fetchall()
            ]
            relation = f'"{schema}"."{table}"'
            for column in columns:
                hits = con.execute(
                    f'select count(*) from {relation} where "{column}" in '
                    "(select token from tokens)"
                    + "".join(
                        f' or contains(lower("{column}"), lower(?))' for _ in sorted(contained)
                    ),
                    sorted(contained),
                ).fetchone()[0]
                if hits:
                    found.append(f"{schema}.{table}.{column}: {hits}")
            if name and columns:
                first, last = name
                has_first = " or ".join(f'contains("{c}", $1)' for c in columns)
                has_last = " or ".join(f'contains("{c}", $2)' for c in columns)
                hits = con.execute(
                    f"select count(*) from {relation} where ({has_first}) and ({has_last})",
                    [first, last],
                ).fetchone()[0]
                if hits:
                    found.append(f"{schema}.{table}: {hits} rows with the name")
    finally:
        con.close()
    return found


def file_traces(folder: Path, tokens: set[str]) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            text = path.read_text(encoding="utf-8", errors="replace").lower()
            found += [f"{path.relative_to(folder)}" for t in tokens if t.lower() in text]
    return found


def all_traces(settings: Settings, equal, contained, name) -> list[str]:
    found = duckdb_traces(settings.build_db, equal, contained, name)
    for snapshot in sorted((settings.published_dir / "builds").glob("*.duckdb")):
        found += [f"{snapshot.name}:{t}" for t in duckdb_traces(snapshot, equal, contained, name)]
    found += [f"exports/{t}" for t in file_traces(settings.exports_dir, equal | contained)]
    return found


# -- erasure ------------------------------------------------------------------------------------


def _pick_person(settings: Settings) -> dict:
    """A person in CRM, orders and web, exported for advertising, with a name no one else has."""
    with (settings.landing_dir / "ground_truth" / "people.csv").open(newline="") as f:
        people = list(csv.DictReader(f))
    names = {}
    for p in people:
        names.setdefault((p["first_name"], p["last_name"]), []).append(p)
    candidates = {
        p["email"].strip().lower(): p
        for p in people
        if p["in_crm"] == p["in_commerce"] == p["in_web"] == "1"
        and len(names[(p["first_name"], p["last_name"])]) == 1
        and p["phone_e164"]
    }
    rows = query(
        settings.published_db,
        """
        select profiles.person_id, profiles.email
        from dim_profiles as profiles
        inner join segments.repeat_customers as members using (person_id)
        where profiles.consent_advertising and profiles.phone is not null
        order by profiles.person_id
        """,
    )
    for person_id, email in rows:
        if email in candidates:
            return {"person_id": person_id, **candidates[email]}
    raise AssertionError("no sample person in all three sources with advertising consent")


def _traces_of(settings: Settings, person: dict) -> tuple[set[str], set[str], tuple[str, str]]:
    identifiers = query(
        settings.published_db,
        "select identifier_type, identifier_value from dim_person_identifiers where person_id = ?",
        person["person_id"],
    )
    assert {t for t, _ in identifiers} >= {"email", "crm_record_id", "anonymous_id", "user_id"}
    equal = {person["person_id"]} | {value for _, value in identifiers}
    phone = person["phone_e164"]
    contained = {
        person["email"].strip().lower(), phone, sha256(person["email"].strip().lower()),
        sha256(phone), sha256(phone.lstrip("+")),
    }  # fmt: skip
    contained |= {v for t, v in identifiers if t in ("email", "phone")}
    contained |= {sha256(v) for t, v in identifiers if t == "email"}
    return equal, contained, (person["first_name"], person["last_name"])


def _person_lines(landing: Path, person: dict, ids: set[str]) -> dict[str, list[str]]:
    """The person's lines in the original exports (header first), by source folder."""
    email = person["email"].strip().lower()
    found: dict[str, list[str]] = {}
    for folder, pattern in (("crm", "*.csv"), ("commerce", "*.csv"), ("web", "*.jsonl")):
        for path in sorted((landing / folder).glob(pattern)):
            lines = path.read_text(encoding="utf-8").splitlines()
            header = [lines[0]] if folder != "web" else []
            mine = [
                line for line in lines[len(header):]
                if email in line.lower() or any(f'"{i}"' in line or f",{i}," in line for i in ids)
            ]  # fmt: skip
            if mine:
                found.setdefault(folder, header + []).extend(mine)
    return found


@pytest.fixture(scope="module")
def erased(sample_build: Settings, tmp_path_factory: pytest.TempPathFactory):
    settings = clone_build(sample_build, tmp_path_factory.mktemp("erasure"))
    person = _pick_person(settings)
    equal, contained, name = _traces_of(settings, person)
    before = all_traces(settings, equal, contained, name)
    ids = {v for v in equal if not v.startswith("kp_") and "@" not in v and not v.startswith("+")}
    lines = _person_lines(settings.landing_dir, person, ids)
    request = settings.landing_dir / "privacy" / "erasure-requests-2026-11-29.csv"
    request.parent.mkdir()
    spelled = "  " + person["email"].strip().upper() + " "  # the request's own spelling
    request.write_text(
        "request_id,request_type,identifier_type,identifier_value,requested_at\n"
        f"dsr-0001,erasure,email,{spelled},2026-11-28T10:00:00+00:00\n"
    )
    with pytest.MonkeyPatch.context() as env:
        run_job(settings, env)
        after = all_traces(settings, equal, contained, name)
        # the same rows come back in new export files (other names, other bytes)
        for folder, mine in lines.items():
            suffix = "jsonl" if folder == "web" else "csv"
            (settings.landing_dir / folder / f"reloaded-export.{suffix}").write_text(
                "\n".join(mine) + "\n", encoding="utf-8"
            )
        run_job(settings, env)
        after_reload = all_traces(settings, equal, contained, name)
    return {
        "settings": settings, "person": person, "before": before, "after": after,
        "after_reload": after_reload, "lines": lines,
    }  # fmt: skip


def test_the_scan_finds_the_person_before_the_erasure(erased):
    before = erased["before"]
    assert any(t.startswith("raw.") for t in before), before
    assert any(".duckdb:" in t for t in before), before  # the published snapshot
    assert any(t.startswith("exports/") for t in before), before  # hashed in an export
    assert any("rows with the name" in t for t in before), before
    assert set(erased["lines"]) == {"crm", "commerce", "web"}


def test_an_erased_person_leaves_no_trace_in_any_layer(erased):
    assert erased["after"] == []


def test_reloading_the_original_exports_does_not_bring_the_person_back(erased):
    settings = erased["settings"]
    assert erased["after_reload"] == []
    loaded = query(
        settings.build_db,
        "select count(*) from raw.load_ledger where source_file like '%reloaded-export%' "
        "and status = 'loaded'",
    )[0][0]
    assert loaded == 3  # the files did load; the suppression list removed their rows
    (tables,) = query(
        settings.build_db,
        "select tables_touched from privacy.purge_log order by purged_at desc limit 1",
    )[0]
    removed = json.loads(tables)
    for folder, table in (("crm", "crm_contacts"), ("commerce", "shopify_orders")):
        assert removed[f"raw.{table}"] == len(erased["lines"][folder]) - 1  # all but the header
    assert removed["raw.web_events"] == len(erased["lines"]["web"])


def test_the_erasure_is_logged_without_the_identifier(erased):
    settings = erased["settings"]
    rows = query(
        settings.build_db,
        "select request_id, identifier_type, identifier_hashes, persons_erased, "
        "identifiers_suppressed, tables_touched, rows_removed from privacy.erasure_log",
    )
    assert len(rows) == 1
    request_id, kind, hashes, persons, identifiers, tables, removed = rows[0]
    key = privacy_key(settings)
    assert (request_id, kind, persons) == ("dsr-0001", "email", 1)
    assert hashes == keyed_hash(key, f"email:{erased['person']['email'].strip().lower()}")
    assert identifiers >= 4 and removed > 0
    touched = json.loads(tables)
    assert any(t.startswith("raw.crm_contacts") for t in touched)
    assert any(t.startswith("marts.dim_profiles") for t in touched)
    (suppressed,) = query(settings.build_db, "select count(*) from privacy.suppression_list")[0]
    assert suppressed >= identifiers


def test_the_erased_person_is_gone_and_everyone_else_stays(erased, sample_build):
    settings = erased["settings"]
    count = "select count(*) from dim_profiles"
    assert (
        query(settings.published_db, count)[0][0]
        == query(sample_build.published_db, count)[0][0] - 1
    )


def test_a_bad_privacy_request_is_quarantined_without_its_text(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("KLANT_MAX_BAD_ROW_SHARE", "0.9")  # 2 bad rows of 4, not refused whole
    folder = settings.landing_dir / "privacy"
    folder.mkdir()
    (folder / "requests.csv").write_text(
        "request_id,request_type,identifier_type,identifier_value,requested_at\n"
        "r1,erasure,email,not-an-address@,2026-11-28T10:00:00+00:00\n"
        "r2,erasure,email,ann@example.com,2026-11-28T10:00:00+00:00\n"
        "r3,erasure,email,bob@example.com,yesterday\n"
        "r4,erasure,customer_id,1001,2026-11-28T10:00:00+00:00\n"
    )
    settings.warehouse_dir.mkdir()
    con = duckdb.connect(str(settings.build_db))
    try:
        load_source(con, PRIVACY, settings.landing_dir, request_transform(settings))
        stored = con.execute(
            "select request_id, identifier_hashes from raw.privacy_requests order by 1"
        ).fetchall()
        quarantined = con.execute(
            "select line_number, reason, raw_line from raw.quarantine order by 1"
        ).fetchall()
        columns = [c for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_name = 'privacy_requests'"
        ).fetchall()]  # fmt: skip
    finally:
        con.close()
    key = privacy_key(settings)
    assert stored == [
        ("r2", keyed_hash(key, "email:ann@example.com")),
        ("r4", f"{keyed_hash(key, 'user_id:1001')},{keyed_hash(key, 'crm_record_id:1001')}"),
    ]
    assert "identifier_value" not in columns
    assert [n for n, _, _ in quarantined] == [2, 4]
    assert quarantined[0][1] == "identifier_value is not a valid e-mail address"
    assert quarantined[1][1].startswith("invalid requested_at")
    assert all(text.startswith("[withheld:") and "@" not in text for _, _, text in quarantined)


# -- retention ----------------------------------------------------------------------------------


def _visitors_last_seen(landing: Path) -> dict[str, datetime]:
    """Cookies none of whose events carries a user id, e-mail or phone, with their last event,
    read from the web exports with json (independently of klant's SQL)."""
    last: dict[str, datetime] = {}
    identified: set[str] = set()
    for path in sorted((landing / "web").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # the sample's broken lines are quarantined, not events
            if not isinstance(event, dict):
                continue
            cookie = (event.get("anonymousId") or "").strip()
            if not cookie:
                continue
            traits, props = event.get("traits") or {}, event.get("properties") or {}
            if (
                event.get("userId")
                or traits.get("email")
                or traits.get("phone")
                or (isinstance(props, dict) and props.get("email"))
            ):
                identified.add(cookie)
            try:
                at = datetime.fromisoformat(event["timestamp"])
            except (KeyError, TypeError, ValueError):
                continue
            if at.tzinfo is None:
                continue  # the loader quarantines a time without an offset
            at = at.astimezone(UTC).replace(tzinfo=None)
            last[cookie] = max(at, last.get(cookie, at))
    return {cookie: at for cookie, at in last.items() if cookie not in identified}


def test_expired_visitors_are_the_unseen_cookies_that_never_identified(sample_build: Settings):
    """retention.expired_visitors against the exports read with json: the cookies whose last
    event is before the cut-off and none of whose events carries a user id, e-mail or phone.
    The sample build's own run already deleted the events of those unseen for 90 days at its
    end; a run 30 days later expires the ones last seen in the 30 days before the cut-off."""
    later = datetime.fromisoformat(SAMPLE_AS_OF) + timedelta(days=30)
    cutoff = later - timedelta(days=90)
    visitors = _visitors_last_seen(sample_build.landing_dir)
    want = {c for c, seen in visitors.items() if cutoff - timedelta(days=30) <= seen < cutoff}
    with duckdb.connect(str(sample_build.build_db), read_only=True) as con:
        expiry = retention.expired_visitors(con, later)
        # the cookies it reads the JSON of are a scratch table of this connection only
        assert not con.execute(
            "select * from duckdb_tables() where table_name = 'klant_unseen_cookies'"
        ).fetchall()
    assert expiry.visitor_cutoff == cutoff
    assert expiry.anonymous_ids == sorted(want)
    assert len(want) > 10


def test_a_cookie_with_an_email_or_phone_in_its_events_json_never_expires() -> None:
    """The JSON of traits and properties is read for the unseen cookies' events only: an e-mail
    or phone there still makes the cookie a person's; a blank value or text that is no JSON
    does not; a user id does, and so does one recent event."""
    con = duckdb.connect()
    ensure_raw_schema(con)
    old, recent = "2026-01-10T10:00:00Z", "2026-11-20T10:00:00Z"
    events = [  # anonymous id, time, user id, traits, properties
        ("plain", old, None, None, '{"path": "/"}'),
        (" plain ", old, None, '{"firstName": "Ann"}', None),
        ("trait-email", old, None, '{"email": "ann@example.com"}', None),
        ("trait-phone", old, None, None, None),
        ("trait-phone", old, None, '{"phone": "+31612345678"}', None),
        ("property-email", old, None, None, '{"email": "bo@example.com"}'),
        ("blank-email", old, None, '{"email": "  "}', '{"email": ""}'),
        ("not-json", old, None, 'email: "cy@example.com"', None),
        ("user-id", old, "u-1", None, None),
        ("recent", old, None, None, None),
        ("recent", recent, None, None, None),
    ]
    con.executemany(
        "insert into raw.web_events (anonymous_id, timestamp, user_id, traits, properties) "
        "values (?, ?, ?, ?, ?)",
        events,
    )
    expiry = retention.expired_visitors(con, datetime(2026, 11, 30))
    assert expiry.anonymous_ids == ["blank-email", "not-json", "plain"]


@pytest.fixture(scope="module")
def aged(sample_build: Settings, tmp_path_factory: pytest.TempPathFactory):
    """The sample build, then a run 30 days later: visitors unseen for 90 days expire."""
    settings = clone_build(sample_build, tmp_path_factory.mktemp("retention"))
    later = datetime.fromisoformat(SAMPLE_AS_OF) + timedelta(days=30)
    cutoff = later - timedelta(days=90)
    visitors = _visitors_last_seen(settings.landing_dir)
    expired = {cookie for cookie, seen in visitors.items() if seen < cutoff}
    # those unseen for 90 days at the sample's end went in the sample build's own run
    already = {c for c, seen in visitors.items() if seen < cutoff - timedelta(days=30)}
    published = {
        a for (a,) in query(settings.published_db, "select anonymous_id from dim_visitors")
    }
    tokens = expired | {f"kv_{a}" for a in expired} | {f"anonymous_id:{a}" for a in expired}
    before = all_traces(settings, tokens, set(), None)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KLANT_AS_OF", later.isoformat(sep=" "))
        run_job(settings, env)
    after = all_traces(settings, tokens, set(), None)
    return {
        "settings": settings, "expired": expired, "already": already,
        "published_before": published,
        "before": before, "after": after,
    }  # fmt: skip


def test_visitors_past_retention_are_gone_from_every_table(aged):
    # some expired at the sample's end already (raw only), some in the 30 days since (published)
    assert aged["expired"] - aged["published_before"]
    assert aged["expired"] & aged["published_before"]
    assert any(t.startswith("raw.web_events") for t in aged["before"]), aged["before"]
    assert any(".duckdb:main.dim_visitors" in t for t in aged["before"]), aged["before"]
    assert aged["after"] == []


def test_visitors_within_retention_stay(aged):
    settings = aged["settings"]
    now = {a for (a,) in query(settings.published_db, "select anonymous_id from dim_visitors")}
    assert now == aged["published_before"] - aged["expired"]
    assert now
    (logged,) = query(
        settings.build_db,
        "select subjects from privacy.purge_log order by purged_at desc limit 1",
    )[0]
    assert logged == len(aged["expired"] - aged["already"]) > 0
