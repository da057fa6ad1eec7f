"""Shared fixtures: a temporary warehouse and landing folder per test, PostgreSQL when present."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from klant.settings import DBT_PROJECT_DIR, REPO_ROOT, SAMPLE_AS_OF, Settings

SEEDS = REPO_ROOT / "seeds"

if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs the tests in two worker processes (pytest-xdist); each keeps its own dbt
    # parse and artifacts (klant.transform.dbt_target_dir). Set on import: test modules build
    # the Dagster definitions, which parse the project, as they are collected. Relative to the
    # dbt project, so a run on a copy of the project (tests/test_segments.py) uses the copy's.
    os.environ.setdefault("DBT_TARGET_PATH", f"target/pytest-{worker}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first, so that of the two workers `make test` runs (one file at a
    time each) neither is left with a long file at the end: the PostgreSQL build, then the
    files that run the whole pipeline (marked slow), then the rest. A file's tests stay
    together and in order (its module fixtures are set up once)."""
    files: dict[Path, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.path, []).append(item)

    def weight(tests: list[pytest.Item]) -> int:
        if any(test.get_closest_marker("postgres") for test in tests):
            return 0
        return 1 if any(test.get_closest_marker("slow") for test in tests) else 2

    ordered = sorted(files.values(), key=weight)  # stable: the usual order within each group
    items[:] = [item for tests in ordered for item in tests]


@pytest.fixture(autouse=True, scope="session")
def sample_as_of():
    """Every build in the tests measures time from the day the sample exports end."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KLANT_AS_OF", SAMPLE_AS_OF)
        yield SAMPLE_AS_OF


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An empty landing folder and warehouse under tmp_path, exported to the environment."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    landing.mkdir()
    monkeypatch.setenv("KLANT_LANDING_DIR", str(landing))
    monkeypatch.setenv("KLANT_WAREHOUSE_DIR", str(warehouse))
    return Settings(landing_dir=landing, warehouse_dir=warehouse)


def copy_sample_exports(landing: Path) -> None:
    """The sample exports as they would land, with the generator's ground truth beside them."""
    for source in ("crm", "web", "commerce", "dmp", "ground_truth"):
        if (SEEDS / source).is_dir():
            shutil.copytree(SEEDS / source, landing / source)


def clone_build(built: Settings, root: Path) -> Settings:
    """A copy of a finished build (landing, warehouse, exports) to run more builds on.

    Saves a test the first full run: copy the session's `sample_build`, change the landing
    folder or the clock, and run the job once more on the copy. Symlinks (the published
    store, each export's `latest`) are relative, so they point into the copy.
    """
    clone = Settings(landing_dir=root / "landing", warehouse_dir=root / "warehouse")
    shutil.copytree(built.landing_dir, clone.landing_dir, symlinks=True)
    shutil.copytree(built.warehouse_dir, clone.warehouse_dir, symlinks=True)
    return clone


def dbt_command(args: list[str], target: Path) -> subprocess.CompletedProcess:
    """`dbt <args>` on the project with its target path and build file in `target`."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args, "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env={
            **os.environ,
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "KLANT_BUILD_DB": str(target / "build.duckdb"),
        },
        capture_output=True,
        text=True,
    )


def dbt_compile(select: str, target: Path, *args: str) -> subprocess.CompletedProcess:
    """`dbt compile --select <select>` of the project into `target`, on a build file there."""
    return dbt_command(["compile", "--select", select, *args], target)


def recomputed_persons(output: str, model: str) -> tuple[int, int]:
    """(persons computed again, persons in the inputs) as a person-incremental model's post-hook
    logged them in dbt's output (macros/person_incremental.sql): exactly one such line."""
    found = re.findall(rf"{model}: recomputed (\d+) of (\d+) persons", output)
    assert len(found) == 1, output[-3000:]
    return int(found[0][0]), int(found[0][1])


def recomputed_identifiers(output: str) -> tuple[int, int] | None:
    """(identifiers whose links were computed again, identifiers in the table) as
    int_identifier_links_limited's post-hook logged them in dbt's output
    (macros/identity_incremental.sql); None when the run computed every link (no such line)."""
    from bench.run import RECOMPUTED_LINKS

    found = RECOMPUTED_LINKS.findall(output)
    assert len(found) <= 1, output[-3000:]
    return (int(found[0][0]), int(found[0][1])) if found else None


def rows_only_in_each(cur, first: str, second: str) -> tuple[int, int]:
    """(rows of `first` not in `second`, rows of `second` not in `first`), duplicates counted
    (EXCEPT ALL both ways): (0, 0) when the two relations hold the same rows. `cur`: a DuckDB
    connection or a PostgreSQL cursor."""
    only = "select count(*) from (select * from {} except all select * from {}) as only_in"
    counts = []
    for a, b in ((first, second), (second, first)):
        cur.execute(only.format(a, b))
        counts.append(cur.fetchone()[0])
    return counts[0], counts[1]


def assert_same_rows_as_a_full_rebuild(
    build_db: Path,
    tmp_path: Path,
    step: str,
    rebuild: Callable[[Path, Path], object],
    tables: list[str],
) -> None:
    """`tables` of an incrementally updated build hold the rows a full rebuild gives them:
    `rebuild(copy, target)` runs the models with --full-refresh on a copy of the build file, with
    its dbt target folder in `target`."""
    import duckdb

    full_db = tmp_path / f"full-{step}.duckdb"
    shutil.copyfile(build_db, full_db)
    rebuild(full_db, tmp_path / f"target-full-{step}")
    con = duckdb.connect(str(build_db), read_only=True)
    con.execute(f"attach '{full_db}' as full_build (read_only)")
    try:
        for table in tables:
            assert rows_only_in_each(con, table, f"full_build.{table}") == (0, 0), (step, table)
    finally:
        con.close()
    full_db.unlink()


def postgres_dsn(dbname: str = "postgres") -> str:
    host = os.environ.get("KLANT_PG_HOST", "127.0.0.1")
    port = os.environ.get("KLANT_PG_PORT", "5432")
    user = os.environ.get("KLANT_PG_USER", "postgres")
    return f"host={host} port={port} user={user} dbname={dbname} connect_timeout=5"


@pytest.fixture(scope="session")
def postgres_available() -> str:
    """Skip without a server; with KLANT_REQUIRE_POSTGRES=1 (CI) a missing server fails."""
    import psycopg2

    try:
        psycopg2.connect(postgres_dsn()).close()
    except psycopg2.OperationalError as error:
        if os.environ.get("KLANT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"KLANT_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable: {error}")
        pytest.skip(f"PostgreSQL not reachable at {postgres_dsn()} ({error})")
    return postgres_dsn()


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory, sample_as_of: str) -> Settings:
    """The sample exports through the full job once per session, for tests that only read it
    (traits and golden record against independent recomputations). Never write to it."""
    import dagster as dg

    from klant.definitions import build_definitions

    root = tmp_path_factory.mktemp("sample_build")
    built = Settings(landing_dir=root / "landing", warehouse_dir=root / "warehouse")
    copy_sample_exports(built.landing_dir)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KLANT_LANDING_DIR", str(built.landing_dir))
        env.setenv("KLANT_WAREHOUSE_DIR", str(built.warehouse_dir))
        defs: dg.Definitions = build_definitions()
        result = defs.resolve_job_def("klant_full").execute_in_process(raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    return built
