"""A run killed with SIGKILL during the build or the publication leaves the previous build live,
and the next run succeeds with the same tables as a clean run, leaving nothing orphaned."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from klant.publish import current_build
from klant.settings import REPO_ROOT, Settings
from tests.conftest import clone_build

pytestmark = pytest.mark.slow

KLANT = Path(sys.executable).with_name("klant")


def start_run(settings: Settings) -> subprocess.Popen:
    """`klant run` with a persistent Dagster instance configured as `make` does it."""
    home = settings.warehouse_dir.parent / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return subprocess.Popen(
        [str(KLANT), "run"],
        env={
            **os.environ,
            "KLANT_LANDING_DIR": str(settings.landing_dir),
            "KLANT_WAREHOUSE_DIR": str(settings.warehouse_dir),
            "DAGSTER_HOME": str(home),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: dbt dies with it
    )


def kill_when(run: subprocess.Popen, ready, timeout: float = 180) -> bool:
    """SIGKILL the run's whole process group as soon as ready() holds; False if it never did."""
    deadline = time.time() + timeout
    while time.time() < deadline and run.poll() is None:
        if ready():
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
            return True
        time.sleep(0.002)
    run.wait()
    return False


def published_tables(settings: Settings) -> dict[str, list]:
    """Every published table's rows but their build id; segment_sizes, which gains a row per
    segment in every build by design, only by its segments."""
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_name not like 'klant_%' order by 1"
        ).fetchall()
        tables = {}
        for (name,) in names:
            sql = f"select * exclude (build_id) from {name}"
            if name == "segments.segment_sizes":
                sql = f"select distinct segment_name from {name}"
            tables[name] = sorted(con.execute(sql).fetchall(), key=repr)
        return tables
    finally:
        con.close()


def test_a_run_killed_during_build_or_publication_leaves_the_last_build_live(
    sample_build: Settings, tmp_path: Path
):
    settings = clone_build(sample_build, tmp_path / "clone")  # a first run, published
    live, clean = current_build(settings), published_tables(settings)

    # killed while it writes the build file (its write-ahead log exists only while it does)
    target = settings.warehouse_dir / "build.duckdb.wal"
    run = start_run(settings)
    assert kill_when(run, lambda: target.exists()), "the run never reached the dbt build"
    assert current_build(settings) == live
    assert published_tables(settings) == clean

    # killed while the snapshot for readers is being written
    builds = settings.published_dir / "builds"
    caught = False
    for _ in range(5):  # the snapshot takes a fraction of a second: try to catch it
        run = start_run(settings)
        caught = kill_when(run, lambda: any(builds.glob(".*.duckdb.tmp")))
        assert current_build(settings) is not None
        if caught:
            assert current_build(settings) == live
            assert published_tables(settings) == clean
            break
        live = current_build(settings)  # it finished first: that build is live now
    assert caught, "never caught a publication in flight"

    # the next run recovers: the killed runs no longer hold the build pool (they are marked
    # failed), it publishes the same tables as a clean run, no half-written snapshot is left
    recovery = start_run(settings)
    assert recovery.wait(timeout=300) == 0
    assert current_build(settings) != live
    assert published_tables(settings) == clean
    assert not list(builds.glob(".*.tmp"))
