"""Volume against recent publications, and source freshness (klant.volume)."""

import json
from datetime import datetime, timedelta

import duckdb
import pytest

from klant import volume
from klant.publish import ensure_audit_schema

QUALIFIED = "main.dim_profiles"


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema marts")
    ensure_audit_schema(con)
    yield con
    con.close()


def publish_history(con, counts: list[int]) -> None:
    """Publications with these row counts, oldest first."""
    start = datetime(2026, 11, 1)
    for n, count in enumerate(counts):
        con.execute(
            "insert into audit.publish_log values (?, ?, 'publish', ?, ?, ?, null)",
            [f"b{n}", f"r{n}", f"b{n}.duckdb", start + timedelta(days=n),
             json.dumps({QUALIFIED: count})],
        )  # fmt: skip


def with_rows(con, rows: int) -> str:
    con.execute(
        f"create or replace table marts.dim_profiles as select range as id from range({rows})"
    )
    return "marts.dim_profiles"


def test_without_history_nothing_is_judged(con):
    outcome = volume.volume(con, with_rows(con, 10), QUALIFIED, may_block=True)
    assert outcome.passed


@pytest.mark.parametrize(
    ("rows", "passed", "severity"),
    [(1000, True, "WARN"), (950, True, "WARN"), (800, False, "WARN"), (400, False, "ERROR")],
)
def test_a_fall_against_the_recent_median_warns_or_blocks(con, rows, passed, severity):
    publish_history(con, [10, 1000, 1000, 990])  # the median of the last three is 1000
    outcome = volume.volume(con, with_rows(con, rows), QUALIFIED, may_block=True)
    assert (outcome.passed, outcome.severity) == (passed, severity)
    assert outcome.metadata["baseline_rows"] == 1000
    assert outcome.metadata["recent_published_rows"] == [990, 1000, 1000]


def test_segments_and_small_tables_only_warn(con, monkeypatch):
    publish_history(con, [1000, 1000, 1000])
    assert volume.volume(con, with_rows(con, 10), QUALIFIED, may_block=False).severity == "WARN"
    monkeypatch.setenv("KLANT_VOLUME_MIN_ROWS", "5000")
    assert volume.volume(con, with_rows(con, 10), QUALIFIED, may_block=True).severity == "WARN"
    monkeypatch.setenv("KLANT_VOLUME_MIN_ROWS", "50")
    monkeypatch.setenv("KLANT_VOLUME_MAX_DROP", "0.995")
    assert volume.volume(con, with_rows(con, 10), QUALIFIED, may_block=True).severity == "WARN"


def test_a_bad_setting_is_a_clear_error(con, monkeypatch):
    publish_history(con, [1000])
    monkeypatch.setenv("KLANT_VOLUME_MAX_DROP", "half")
    with pytest.raises(ValueError, match="KLANT_VOLUME_MAX_DROP"):
        volume.volume(con, with_rows(con, 10), QUALIFIED, may_block=True)


def test_a_stale_source_warns(con, monkeypatch):
    con.execute("create schema raw")
    con.execute("create table raw.crm_contacts (_loaded_at timestamp)")
    now = datetime(2026, 11, 29, 12)
    empty = volume.freshness(con, "crm_contacts", now)
    assert (empty.passed, empty.severity) == (False, "WARN")
    con.execute("insert into raw.crm_contacts values (?)", [now - timedelta(hours=40)])
    stale = volume.freshness(con, "crm_contacts", now)
    assert (stale.passed, stale.severity) == (False, "WARN")
    assert stale.metadata["age_hours"] == 40
    monkeypatch.setenv("KLANT_FRESHNESS_HOURS", "48")
    assert volume.freshness(con, "crm_contacts", now).passed


def test_rows_removed_on_purpose_since_a_publication_leave_its_baseline(con):
    """An erasure or expired visitors shrink a table on purpose: no block, then or later."""
    from klant.privacy.purge import ensure_privacy_schema

    ensure_privacy_schema(con)
    publish_history(con, [1000, 1000])  # published 2026-11-01 and 11-02
    con.execute(  # the privacy step of the run after them removed 600 rows
        "insert into audit.expected_removals values ('r2', 'marts.dim_profiles', 600, ?)",
        [datetime(2026, 11, 3)],
    )
    relation = with_rows(con, 400)
    outcome = volume.volume(con, relation, QUALIFIED, True, build_table="marts.dim_profiles")
    assert outcome.passed and outcome.metadata["recent_published_rows"] == [400, 400]
    con.execute(  # that build published on 11-04; the next run compares with it too
        "insert into audit.publish_log values ('b2', 'r2', 'publish', 'b2.duckdb', ?, ?, null)",
        [datetime(2026, 11, 4), json.dumps({QUALIFIED: 400})],
    )
    outcome = volume.volume(con, relation, QUALIFIED, True, build_table="marts.dim_profiles")
    assert outcome.passed
    # without the removals on record the same fall blocks
    con.execute("delete from audit.expected_removals")
    assert not volume.volume(con, relation, QUALIFIED, True, "marts.dim_profiles").passed
