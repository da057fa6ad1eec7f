"""int_profile_values_ranked is incremental by person and int_web_sessions by profile
(macros/person_incremental.sql): a run computes again only the persons whose input rows changed,
yet leaves the table exactly as a full rebuild would. On a copy of the sample build, the inputs
are changed as the pipeline changes them (new records, a merge of two persons, a person erased,
a purge that deleted output rows, a run that stopped half-way) and a seed or a var is changed;
after each, the incremental run is compared row for row (EXCEPT ALL both ways) with
`dbt run --full-refresh` on a copy, and the persons it recomputed are exactly the ones touched."""

import os
from pathlib import Path

import duckdb
import pytest

from bench.dbt_cli import dbt_on
from klant.settings import SAMPLE_AS_OF, Settings
from tests.conftest import (
    assert_same_rows_as_a_full_rebuild,
    clone_build,
    recomputed_persons,
)

pytestmark = pytest.mark.slow

MODEL = "int_profile_values_ranked"
RANKED = f"intermediate.{MODEL}"
UNIONED = "intermediate.int_profile_values_unioned"
SESSIONS = "intermediate.int_web_sessions"
EVENTS = "intermediate.int_web_events_profiled"


def run_model(
    build_db: Path, target: Path, model: str = MODEL, *, full_refresh: bool = False, **variables
) -> str:
    args = ["run", "--select", model, *(["--full-refresh"] if full_refresh else [])]
    variables = {"klant__as_of": os.environ.get("KLANT_AS_OF", SAMPLE_AS_OF), **variables}
    return dbt_on(args, build_db, target, variables)


def recomputed(output: str, model: str = MODEL) -> tuple[int, int]:
    return recomputed_persons(output, model)


def assert_equals_full_rebuild(
    build_db: Path, tmp_path: Path, step: str, model: str = MODEL, **variables
) -> None:
    """The incremental table, and the entries it keeps for the next run, have the rows a full
    rebuild on a copy of the build gives."""
    table = f"intermediate.{model}"
    assert_same_rows_as_a_full_rebuild(
        build_db,
        tmp_path,
        step,
        lambda copy, target: run_model(copy, target, model, full_refresh=True, **variables),
        [table, f"{table}__persons"],
    )


def first_column(con: duckdb.DuckDBPyConnection, sql: str) -> list:
    return [row[0] for row in con.execute(sql).fetchall()]


@pytest.fixture
def build(sample_build: Settings, tmp_path: Path) -> Path:
    return clone_build(sample_build, tmp_path / "clone").build_db


def test_an_unchanged_build_ranks_no_one_again(build: Path, tmp_path: Path):
    done, total = recomputed(run_model(build, tmp_path / "target"))
    con = duckdb.connect(str(build), read_only=True)
    persons = con.execute(f"select count(distinct person_id) from {UNIONED}").fetchone()[0]
    con.close()
    assert (done, total) == (0, persons) and persons > 1000


def test_changed_candidates_rank_only_their_persons_again(build: Path, tmp_path: Path):
    con = duckdb.connect(str(build))
    persons = first_column(
        con,
        f"select person_id from {RANKED} group by person_id "
        "having count(*) filter (attribute = 'first_name') > 0 "
        "and count(*) filter (attribute = 'country') > 0 order by person_id limit 8",
    )
    new_records, merged, survivor, erased, purged, stopped, forgotten = (
        persons[0:2], persons[2], persons[3], persons[4], persons[5], persons[6], persons[7]
    )  # fmt: skip
    # a next day's records: each of two persons states a newer first name and a new country
    con.execute(
        f"insert into {UNIONED} select person_id, attribute, attribute_value || 'x', source, "
        "is_well_formed, record_key || '-next', observed_at + interval 1 day "
        f"from {UNIONED} where person_id in (?, ?) and attribute in ('first_name', 'country')",
        new_records,
    )
    # identity merged one person into another: all its records are the survivor's now
    con.execute(f"update {UNIONED} set person_id = ? where person_id = ?", [survivor, merged])
    # a person erased: no candidates left
    con.execute(f"delete from {UNIONED} where person_id = ?", [erased])
    # a purge deleted some ranked rows of a person whose candidates stay
    con.execute(f"delete from {RANKED} where person_id = ? and attribute = 'first_name'", [purged])
    # a run stopped after deleting a person's rows, before writing them again
    con.execute(f"delete from {RANKED} where person_id = ?", [stopped])
    # a person's kept entry lost
    con.execute(f"delete from {RANKED}__persons where person_id = ?", [forgotten])
    total = con.execute(f"select count(distinct person_id) from {UNIONED}").fetchone()[0]
    con.close()

    assert recomputed(run_model(build, tmp_path / "target")) == (8, total)
    assert_equals_full_rebuild(build, tmp_path, "changed")
    con = duckdb.connect(str(build), read_only=True)
    gone = con.execute(
        f"select count(*) from {RANKED} where person_id in (?, ?)", [merged, erased]
    ).fetchone()[0]
    added = con.execute(
        f"select count(*) from {RANKED} where person_id in (?, ?) and record_key like '%-next'",
        new_records,
    ).fetchone()[0]
    con.close()
    assert gone == 0 and added >= 4

    # and the next run has nothing left to do
    assert recomputed(run_model(build, tmp_path / "target")) == (0, total)


def test_an_edited_survivorship_seed_ranks_every_person_again(build: Path, tmp_path: Path):
    con = duckdb.connect(str(build))
    seed = con.execute(
        "select table_schema from information_schema.tables "
        "where table_name = 'profile_survivorship'"
    ).fetchone()[0]
    before = con.execute(
        f"select rule from {seed}.profile_survivorship where attribute = 'country'"
    ).fetchone()[0]
    assert before != "most_recent"
    con.execute(
        f"update {seed}.profile_survivorship set rule = 'most_recent' where attribute = 'country'"
    )
    total = con.execute(f"select count(distinct person_id) from {UNIONED}").fetchone()[0]
    con.close()

    assert recomputed(run_model(build, tmp_path / "target")) == (total, total)
    assert_equals_full_rebuild(build, tmp_path, "seed")


def test_changed_events_sessionize_only_their_profiles_again(build: Path, tmp_path: Path):
    con = duckdb.connect(str(build))
    profiles = first_column(
        con,
        f"select profile_id from {SESSIONS} group by profile_id having count(*) > 1 "
        "order by profile_id limit 5",
    )
    later, merged, survivor, erased, purged = profiles
    # a next day's event: a new visit of one profile, on its last device
    con.execute(
        f"insert into {EVENTS} by name select * replace (message_id || '-next' as message_id, "
        "event_at + interval 1 day as event_at) "
        f"from {EVENTS} where profile_id = ? order by event_at desc limit 1",
        [later],
    )
    # one profile's events are another's now (two persons merged)
    con.execute(
        f"update {EVENTS} set profile_id = ?, person_id = ? where profile_id = ?",
        [survivor, survivor, merged],
    )
    con.execute(f"delete from {EVENTS} where profile_id = ?", [erased])
    con.execute(
        f"delete from {SESSIONS} where session_id = "
        f"(select min(session_id) from {SESSIONS} where profile_id = ?)",
        [purged],
    )
    total = con.execute(f"select count(distinct profile_id) from {EVENTS}").fetchone()[0]
    con.close()

    model = "int_web_sessions"
    assert recomputed(run_model(build, tmp_path / "target", model), model) == (5, total)
    assert_equals_full_rebuild(build, tmp_path, "events", model)
    assert recomputed(run_model(build, tmp_path / "target", model), model) == (0, total)

    # another session timeout cuts every profile's visits again
    shorter = {"klant__session_timeout_minutes": 10}
    assert recomputed(run_model(build, tmp_path / "target", model, **shorter), model) == (
        total,
        total,
    )
    assert_equals_full_rebuild(build, tmp_path, "timeout", model, **shorter)
