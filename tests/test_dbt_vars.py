"""dbt vars reach SQL only through checked macros: a var that carries SQL is refused; dbt's
DuckDB runs under the memory limit klant states."""

import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from klant.settings import (
    DEFAULT_DBT_MEMORY_LIMIT,
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    dbt_memory_limit,
    dbt_vars,
    duckdb_config,
)
from tests.conftest import dbt_command, dbt_compile


def compile_segment(tmp_path: Path, as_of: str) -> subprocess.CompletedProcess:
    return dbt_compile("cart_abandoners", tmp_path, "--vars", json.dumps({"klant__as_of": as_of}))


def test_a_well_formed_as_of_becomes_a_timestamp(tmp_path: Path):
    done = compile_segment(tmp_path, "2026-11-29 00:00:00")
    assert done.returncode == 0, done.stdout[-2000:]
    compiled = next(tmp_path.rglob("cart_abandoners.sql")).read_text()
    assert "cast('2026-11-29 00:00:00' as timestamp)" in compiled


@pytest.mark.parametrize(
    "as_of", ["2026-11-29'; drop table raw.crm_contacts;--", "now()", "2026-11-29 00:00:00 or 1=1"]
)
def test_an_as_of_carrying_sql_is_refused(tmp_path: Path, as_of: str):
    done = compile_segment(tmp_path, as_of)
    assert done.returncode != 0
    assert "klant__as_of must look like" in done.stdout
    assert not list(tmp_path.rglob("cart_abandoners.sql"))


def test_klant_as_of_in_the_environment_becomes_the_var(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KLANT_VISITOR_RETENTION_DAYS", raising=False)
    monkeypatch.setenv("KLANT_AS_OF", " 2026-12-01 ")
    assert dbt_vars() == {"klant__as_of": "2026-12-01", "klant__visitor_retention_days": 90}
    monkeypatch.setenv("KLANT_AS_OF", "")
    assert dbt_vars() == {"klant__visitor_retention_days": 90}


def test_the_visitor_retention_reaches_the_models(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KLANT_VISITOR_RETENTION_DAYS", "30")
    assert dbt_vars()["klant__visitor_retention_days"] == 30
    for bad in ("0", "2.5", "ninety"):
        monkeypatch.setenv("KLANT_VISITOR_RETENTION_DAYS", bad)
        with pytest.raises(ValueError, match="KLANT_VISITOR_RETENTION_DAYS"):
            dbt_vars()


def dbt_memory_limit_seen(tmp_path: Path) -> str:
    """The memory_limit setting of dbt's own DuckDB connection, under this environment."""
    done = dbt_command(
        ["show", "--quiet", "--output", "json"]
        + ["--inline", "select current_setting('memory_limit') as memory_limit"],
        tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout)["show"][0]["memory_limit"]


def duckdb_reads(limit: str) -> str:
    """How DuckDB states a memory limit once set (1GB -> '953.6 MiB')."""
    with duckdb.connect(config={"memory_limit": limit}) as con:
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


@pytest.mark.parametrize(
    "env",
    [
        {},  # the default
        {"KLANT_DBT_MEMORY_LIMIT": "1536MB"},
        {"KLANT_DUCKDB_MEMORY_LIMIT": "768MB"},  # klant's own connections only
        {"KLANT_DUCKDB_MEMORY_LIMIT": "768MB", "KLANT_DBT_MEMORY_LIMIT": "640MB"},
    ],
)
def test_dbt_runs_under_the_memory_limit_klant_states(tmp_path, monkeypatch, env):
    # the profile and klant.settings.dbt_memory_limit (which the benchmark reports) must agree
    for name in ("KLANT_DBT_MEMORY_LIMIT", "KLANT_DUCKDB_MEMORY_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert dbt_memory_limit_seen(tmp_path) == duckdb_reads(dbt_memory_limit())
    assert dbt_memory_limit() == env.get("KLANT_DBT_MEMORY_LIMIT", DEFAULT_DBT_MEMORY_LIMIT)
    # klant's own connections keep KLANT_DUCKDB_MEMORY_LIMIT (or their own default)
    assert duckdb_config()["memory_limit"] == env.get(
        "KLANT_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT
    )
