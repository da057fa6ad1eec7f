"""stg_web__events and stg_commerce__orders are incremental models: a run computes only the events
and orders whose raw rows changed since the last run, yet leaves the tables exactly as a full
rebuild would, after new loads (a "next day"), a re-delivery of known events and orders, raw rows
deleted (a purge, retention) and staged rows a purge deleted. Each step is compared row for row
(EXCEPT ALL both ways) with `dbt run --full-refresh` of the same raw tables."""

import csv
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from bench import newday
from bench.dbt_cli import dbt_on
from klant.identity.dictionary import update_dictionary
from klant.ingest.loader import load_source
from klant.ingest.sources import COMMERCE, WEB
from klant.settings import SAMPLE_AS_OF
from tests.conftest import SEEDS, rows_only_in_each

MODELS = (
    "stg_web__event_deliveries",
    "stg_web__events",
    "stg_commerce__orders",
    "stg_commerce__order_lines",
)
REDELIVERED_EVENTS = 12
REEXPORTED_ORDERS = 4


def dbt(args: list[str], build_db: Path, work: Path) -> str:
    """The project's dbt on `build_db`, with the tests' clock and its own target and logs."""
    return dbt_on(
        args,
        build_db,
        work / "target",
        {"klant__as_of": os.environ.get("KLANT_AS_OF", SAMPLE_AS_OF)},
    )


def run_staging(build_db: Path, work: Path, *, full_refresh: bool = False) -> None:
    dbt(["run", "--select", *MODELS, *(["--full-refresh"] if full_refresh else [])], build_db, work)


def load(build_db: Path, landing: Path) -> None:
    """As the ingest assets and the dictionary asset do: every new file, then its identifiers."""
    con = duckdb.connect(str(build_db))
    try:
        for spec in (WEB, COMMERCE):
            results = load_source(con, spec, landing)
            assert all(r.status in ("loaded", "skipped") for r in results), results
        update_dictionary(con, "NL")
    finally:
        con.close()


def differences(incremental_db: Path, full_db: Path) -> dict[str, tuple[int, int]]:
    """Rows only in the incremental build, rows only in the full rebuild, per model."""
    con = duckdb.connect(str(incremental_db), read_only=True)
    con.execute(f"attach '{full_db}' as full_build (read_only)")
    try:
        found = {}
        for model in MODELS:
            inc, full = f"staging.{model}", f"full_build.staging.{model}"
            found[model] = rows_only_in_each(con, inc, full)
        return found
    finally:
        con.close()


def assert_incremental_equals_full(build_db: Path, tmp_path: Path, step: str) -> None:
    """Run the models incrementally on `build_db` and fully on a copy: the same rows."""
    full_db = tmp_path / f"full-{step}.duckdb"
    shutil.copyfile(build_db, full_db)
    run_staging(build_db, tmp_path / "work")
    run_staging(full_db, tmp_path / "work-full", full_refresh=True)
    assert differences(build_db, full_db) == {model: (0, 0) for model in MODELS}, step


def redelivery(landing: Path, target: Path) -> tuple[list[str], list[str]]:
    """A web file re-sending known events with another user agent (the first delivery must
    win), and an orders export holding known orders again, refunded (the latest wins)."""
    events = []
    with (landing / "web" / "segment-events-2026-03.jsonl").open(encoding="utf-8") as f:
        for line in f:
            event = json.loads(line)
            if isinstance(event, dict) and event.get("messageId"):
                event.setdefault("context", {})["userAgent"] = "redelivered"
                events.append(event)
            if len(events) == REDELIVERED_EVENTS:
                break
    (target / "web" / "segment-events-redelivered.jsonl").write_text(
        "".join(json.dumps(event) + "\n" for event in events), encoding="utf-8"
    )
    with (landing / "commerce" / "orders_export_1.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, name_at, status_at = rows[0], rows[0].index("Name"), rows[0].index("Financial Status")
    # orders of several lines: the new copy is the one their lines are read from
    names = [n for n in dict.fromkeys(r[name_at] for r in rows[1:])
             if sum(r[name_at] == n for r in rows[1:]) > 1][:REEXPORTED_ORDERS]  # fmt: skip
    again = [[*r[:status_at], "refunded" if r[status_at] else "", *r[status_at + 1 :]]
             for r in rows[1:] if r[name_at] in names]  # fmt: skip
    with (target / "commerce" / "orders_export_2.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *again])
    return [e["messageId"] for e in events], names


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    """The sample's web events and orders loaded and staged (the first, full run)."""
    landing = tmp_path / "landing"
    for folder in ("web", "commerce"):
        shutil.copytree(SEEDS / folder, landing / folder)
    build_db = tmp_path / "build.duckdb"
    load(build_db, landing)
    dbt(["seed", "--select", "country_aliases"], build_db, tmp_path / "work")
    run_staging(build_db, tmp_path / "work")
    return build_db


def test_incremental_staging_equals_a_full_rebuild(staged: Path, tmp_path: Path):
    build_db, landing = staged, tmp_path / "landing"
    con = duckdb.connect(str(build_db), read_only=True)
    events_before, orders_before = (
        con.execute(f"select count(*) from staging.{model}").fetchone()[0]
        for model in ("stg_web__events", "stg_commerce__orders")
    )
    con.close()

    # a next day of events and orders, known events re-delivered, known orders re-exported
    day, _ = newday.next_day(SAMPLE_AS_OF)
    next_landing = tmp_path / "landing-next"
    counts = newday.build_landing(landing, next_landing, day, seed=11, share=0.05)
    assert counts["web_events"] > 0 and counts["orders"] > 0, counts
    message_ids, order_names = redelivery(landing, next_landing)
    load(build_db, next_landing)
    assert_incremental_equals_full(build_db, tmp_path, "new loads")

    con = duckdb.connect(str(build_db), read_only=True)
    events_after, orders_after = (
        con.execute(f"select count(*) from staging.{model}").fetchone()[0]
        for model in ("stg_web__events", "stg_commerce__orders")
    )
    assert events_after > events_before and orders_after > orders_before
    first = con.execute(
        "select message_id, raw_row_count, user_agent from staging.stg_web__events "
        "where message_id = ?",
        [message_ids[0]],
    ).fetchone()
    assert first[1] == 2 and first[2] != "redelivered", first
    refunded = con.execute(
        "select count(*) from staging.stg_commerce__orders "
        "where order_name in (select unnest(?::varchar[])) and financial_status = 'refunded'",
        [order_names],
    ).fetchone()[0]
    assert refunded == len(order_names)
    con.close()

    # deletions between runs: the first delivery of a re-delivered event (the later one now
    # wins), every raw row of another event, an order's header row; a purge that deleted an
    # event's raw rows and its staged row alike; a staged row lost while its raw rows stay (it
    # comes back, as in a full rebuild). No new load at all.
    con = duckdb.connect(str(build_db))
    con.execute(
        "delete from raw.web_events where trim(message_id) = ? and _load_id = "
        "(select _load_id from staging.stg_web__events where message_id = ?)",
        [message_ids[0], message_ids[0]],
    )
    (gone,), (purged,), (healed,) = con.execute(
        "select message_id from staging.stg_web__events "
        "where raw_row_count = 1 and message_id not in (select unnest(?::varchar[])) "
        "order by message_id limit 3",
        [message_ids],
    ).fetchall()
    con.execute("delete from raw.web_events where trim(message_id) in (?, ?)", [gone, purged])
    con.execute("delete from staging.stg_web__events where message_id in (?, ?)", [purged, healed])
    order = con.execute(
        "select order_name, _load_id, _source_file, _line_number from staging.stg_commerce__orders "
        "where raw_row_count > 1 and order_name not in (select unnest(?::varchar[])) "
        "order by order_name limit 1",
        [order_names],
    ).fetchone()
    con.execute(
        "delete from raw.shopify_orders "
        "where trim(name) = ? and _load_id = ? and _source_file = ? and _line_number = ?",
        list(order),
    )
    con.close()
    assert_incremental_equals_full(build_db, tmp_path, "deleted raw rows")

    con = duckdb.connect(str(build_db), read_only=True)
    moved = con.execute(
        "select raw_row_count, user_agent from staging.stg_web__events where message_id = ?",
        [message_ids[0]],
    ).fetchone()
    assert moved == (1, "redelivered")
    kept = con.execute(
        "select message_id from staging.stg_web__events where message_id in (?, ?, ?)",
        [gone, purged, healed],
    ).fetchall()
    assert kept == [(healed,)]
    (left,) = con.execute(
        "select raw_row_count from staging.stg_commerce__orders where order_name = ?", [order[0]]
    ).fetchone()
    con.close()
    assert left >= 1


def test_a_changed_country_alias_restages_the_orders_it_names(staged: Path, tmp_path: Path):
    # the most frequent billing country as typed, mapped by the seed to another code, as a
    # changed country_aliases.csv is reloaded by `dbt seed` before the models run
    con = duckdb.connect(str(staged))
    typed, code = con.execute(
        "select billing_country, billing_country_code from staging.stg_commerce__orders "
        "where billing_country_code is not null group by all order by count(*) desc limit 1"
    ).fetchone()
    changed = con.execute(
        "update staging.country_aliases set country_code = 'ZZ' "
        "where lower(trim(alias)) = lower(trim(?))",
        [typed],
    ).fetchone()[0]
    con.close()
    assert changed >= 1 and code != "ZZ"
    assert_incremental_equals_full(staged, tmp_path, "changed country alias")
    con = duckdb.connect(str(staged), read_only=True)
    codes = con.execute(
        "select distinct billing_country_code from staging.stg_commerce__orders "
        "where billing_country = ?",
        [typed],
    ).fetchall()
    con.close()
    assert codes == [("ZZ",)]
