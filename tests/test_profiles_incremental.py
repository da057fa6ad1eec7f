"""int_profile_values_ranked is incremental by person (macros/person_incremental.sql): a run ranks
again only the persons whose candidates changed, yet leaves the table exactly as a full rebuild
would. On a copy of the sample build, the candidates are changed as the pipeline changes them
(new records, a merge of two persons, a person erased, a purge that deleted ranked rows, a run
that stopped half-way) and the survivorship seed is edited; after each, the incremental run is
compared row for row (EXCEPT ALL both ways) with `dbt run --full-refresh` on a copy, and the
persons it recomputed are exactly the ones touched."""

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from bench.dbt_cli import dbt_on
from klant.settings import SAMPLE_AS_OF, Settings
from tests.conftest import clone_build

pytestmark = pytest.mark.slow

MODEL = "int_profile_values_ranked"
RANKED = f"intermediate.{MODEL}"
UNIONED = "intermediate.int_profile_values_unioned"
KEPT = f"intermediate.{MODEL}__persons"
RECOMPUTED = re.compile(rf"{MODEL}: recomputed (\d+) of (\d+) persons")


def run_ranked(build_db: Path, target: Path, *, full_refresh: bool = False) -> str:
    args = ["run", "--select", MODEL, *(["--full-refresh"] if full_refresh else [])]
    variables = {"klant__as_of": os.environ.get("KLANT_AS_OF", SAMPLE_AS_OF)}
    return dbt_on(args, build_db, target, variables)


def recomputed(output: str) -> tuple[int, int]:
    """(persons ranked again, persons with candidates) as the post-hook logged them."""
    found = RECOMPUTED.findall(output)
    assert len(found) == 1, output[-3000:]
    return int(found[0][0]), int(found[0][1])


def assert_equals_full_rebuild(build_db: Path, tmp_path: Path, step: str) -> None:
    """The incremental table has the rows a full rebuild on a copy of the build gives."""
    full_db = tmp_path / f"full-{step}.duckdb"
    shutil.copyfile(build_db, full_db)
    run_ranked(full_db, tmp_path / f"target-full-{step}", full_refresh=True)
    con = duckdb.connect(str(build_db), read_only=True)
    con.execute(f"attach '{full_db}' as full_build (read_only)")
    try:
        full = f"full_build.{RANKED}"
        counts = [
            con.execute(
                f"select count(*) from (select * from {a} except all select * from {b})"
            ).fetchone()[0]
            for a, b in ((RANKED, full), (full, RANKED))
        ]
        assert counts == [0, 0], (step, counts)
        # and the entries kept for the next run are the ones a full rebuild keeps
        kept, full_kept = f"select * from {KEPT}", f"select * from full_build.{KEPT}"
        assert (
            con.execute(f"select count(*) from ({kept} except {full_kept})").fetchone()[0],
            con.execute(f"select count(*) from ({full_kept} except {kept})").fetchone()[0],
        ) == (0, 0), step
    finally:
        con.close()
    full_db.unlink()


@pytest.fixture
def build(sample_build: Settings, tmp_path: Path) -> Path:
    return clone_build(sample_build, tmp_path / "clone").build_db


def test_an_unchanged_build_ranks_no_one_again(build: Path, tmp_path: Path):
    done, total = recomputed(run_ranked(build, tmp_path / "target"))
    con = duckdb.connect(str(build), read_only=True)
    persons = con.execute(f"select count(distinct person_id) from {UNIONED}").fetchone()[0]
    con.close()
    assert (done, total) == (0, persons) and persons > 1000


def test_changed_candidates_rank_only_their_persons_again(build: Path, tmp_path: Path):
    con = duckdb.connect(str(build))
    persons = [
        row[0]
        for row in con.execute(
            f"select person_id from {RANKED} group by person_id "
            "having count(*) filter (attribute = 'first_name') > 0 "
            "and count(*) filter (attribute = 'country') > 0 order by person_id limit 8"
        ).fetchall()
    ]
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
    con.execute(f"delete from {KEPT} where person_id = ?", [forgotten])
    total = con.execute(f"select count(distinct person_id) from {UNIONED}").fetchone()[0]
    con.close()

    assert recomputed(run_ranked(build, tmp_path / "target")) == (8, total)
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
    assert recomputed(run_ranked(build, tmp_path / "target")) == (0, total)


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

    assert recomputed(run_ranked(build, tmp_path / "target")) == (total, total)
    assert_equals_full_rebuild(build, tmp_path, "seed")
