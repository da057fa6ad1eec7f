"""Publication: only audited builds reach readers, atomically, and one command rolls back."""

import json
import subprocess
import sys
import textwrap

import duckdb
import pytest

from klant.publish import (
    PublishedTable,
    PublishRefused,
    current_build,
    publish,
    record_check,
    rollback,
)
from klant.settings import Settings

TABLES = [
    PublishedTable("dim_profiles", "marts", "dim_profiles", "main"),
    PublishedTable("repeat_customers", "segments", "repeat_customers", "segments"),
]
CHECKS = ["gx_dim_profiles"]


@pytest.fixture
def build(settings: Settings):
    settings.warehouse_dir.mkdir()
    con = duckdb.connect(str(settings.build_db))
    con.execute("create schema marts; create schema segments")
    yield con
    con.close()


def make_build(con, n: int) -> None:
    """A build whose tables all carry the generation n, so a mixed read is detectable."""
    con.execute(
        "create or replace table marts.dim_profiles as "
        f"select 'kp_' || i as person_id, {n} as generation from range({n}) t(i)"
    )
    con.execute(
        "create or replace table segments.repeat_customers as "
        f"select 'kp_' || i as person_id, {n} as generation from range({n}) t(i) where i % 2 = 0"
    )


def passed(con, run_id: str, ok: bool = True, severity: str = "ERROR") -> None:
    record_check(con, run_id, "gx_dim_profiles", "dim_profiles", ok, severity, {})


def test_an_audited_build_is_published(build, settings: Settings):
    make_build(build, 10)
    passed(build, "run-1")
    build_id, counts = publish(build, settings, "run-1", TABLES, CHECKS)
    assert counts == {"main.dim_profiles": 10, "segments.repeat_customers": 5}
    assert current_build(settings) == build_id
    reader = duckdb.connect(str(settings.published_db), read_only=True)
    assert reader.execute("select count(*) from dim_profiles").fetchone() == (10,)
    assert reader.execute("select build_id, run_id from klant_build").fetchone() == (
        build_id,
        "run-1",
    )
    reader.close()


@pytest.mark.parametrize("check", ["failed", "missing"])
def test_a_failed_or_missing_audit_keeps_the_previous_build(build, settings, check):
    make_build(build, 10)
    passed(build, "run-1")
    good, _ = publish(build, settings, "run-1", TABLES, CHECKS)
    make_build(build, 20)
    if check == "failed":
        passed(build, "run-2", ok=False)
    with pytest.raises(PublishRefused, match="gx_dim_profiles"):
        publish(build, settings, "run-2", TABLES, CHECKS)
    assert current_build(settings) == good
    reader = duckdb.connect(str(settings.published_db), read_only=True)
    assert reader.execute("select max(generation) from dim_profiles").fetchone() == (10,)
    reader.close()
    # the failed build stays in the build file for inspection
    assert build.execute("select max(generation) from marts.dim_profiles").fetchone() == (20,)


def test_a_warning_does_not_block_publication(build, settings):
    make_build(build, 3)
    passed(build, "run-1", ok=False, severity="WARN")
    build_id, _ = publish(build, settings, "run-1", TABLES, CHECKS)
    assert current_build(settings) == build_id


def test_rollback_puts_the_previous_build_back(build, settings):
    ids = []
    for run, n in (("run-1", 10), ("run-2", 20)):
        make_build(build, n)
        passed(build, run)
        ids.append(publish(build, settings, run, TABLES, CHECKS)[0])
    assert rollback(build, settings) == ids[0]
    assert current_build(settings) == ids[0]
    reader = duckdb.connect(str(settings.published_db), read_only=True)
    assert reader.execute("select max(generation) from dim_profiles").fetchone() == (10,)
    reader.close()
    with pytest.raises(PublishRefused, match="no earlier published build"):
        rollback(build, settings)


def test_old_snapshots_are_pruned_but_the_live_one_stays(build, settings):
    for i in range(8):
        make_build(build, i + 1)
        passed(build, f"run-{i}")
        publish(build, settings, f"run-{i}", TABLES, CHECKS, keep=3, grace_seconds=0)
    snapshots = list((settings.published_dir / "builds").glob("*.duckdb"))
    assert len(snapshots) == 3
    assert current_build(settings) in {p.stem for p in snapshots}


def test_a_just_superseded_snapshot_is_not_pruned(build, settings):
    for i in range(4):
        make_build(build, i + 1)
        passed(build, f"run-{i}")
        publish(build, settings, f"run-{i}", TABLES, CHECKS, keep=1)
    assert len(list((settings.published_dir / "builds").glob("*.duckdb"))) == 4


READER = textwrap.dedent(
    """
    import json, sys, time, duckdb
    path, deadline = sys.argv[1], time.time() + float(sys.argv[2])
    reads, errors, mixed = 0, [], 0
    while time.time() < deadline:
        try:
            con = duckdb.connect(path, read_only=True)
            build = con.execute("select build_id from klant_build").fetchall()
            gens = con.execute(
                "select distinct generation from dim_profiles union "
                "select distinct generation from segments.repeat_customers"
            ).fetchall()
            con.close()
            reads += 1
            if len(build) != 1 or len(gens) != 1:
                mixed += 1
        except Exception as error:  # any error is a failure of publication
            errors.append(repr(error))
    print(json.dumps({"reads": reads, "errors": errors, "mixed": mixed}))
    """
)


def test_a_reader_in_another_process_never_fails_or_sees_a_mixed_build(build, settings):
    make_build(build, 1)
    passed(build, "run-0")
    publish(build, settings, "run-0", TABLES, CHECKS)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.published_db), "6"],
        stdout=subprocess.PIPE,
        text=True,
    )
    n = 1
    while reader.poll() is None:
        n += 1
        make_build(build, n)
        passed(build, f"run-{n}")
        publish(build, settings, f"run-{n}", TABLES, CHECKS)
    report = json.loads(reader.stdout.read())
    assert report["errors"] == []
    assert report["mixed"] == 0
    assert report["reads"] > 10 and n > 3
