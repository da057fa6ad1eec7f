"""The same dbt project builds on PostgreSQL and gives the same profiles as on DuckDB."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import pytest

from klant.identity.dictionary import update_dictionary
from klant.ingest.loader import load_source
from klant.ingest.sources import SOURCES
from klant.settings import DBT_PROJECT_DIR
from tests.conftest import copy_sample_exports, postgres_dsn

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DBT = Path(sys.executable).with_name("dbt")


def dbt_build(target: str, env: dict[str, str], target_path: Path) -> None:
    """Build as Dagster does: everything up to the segments, then the segment rollup."""
    variables = json.dumps({"klant__as_of": os.environ["KLANT_AS_OF"]})
    for selection in (["--exclude", "tag:segment_rollup"], ["--select", "tag:segment_rollup"]):
        done = subprocess.run(
            [str(DBT), "build", "--target", target, "--target-path", str(target_path)]
            + ["--vars", variables, *selection],
            cwd=DBT_PROJECT_DIR,
            env={**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), **env},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def copy_raw_to_postgres(duck: duckdb.DuckDBPyConnection, pg, tmp_path: Path) -> None:
    """Every raw table as ingest wrote it in DuckDB, copied column for column into PostgreSQL."""
    cur = pg.cursor()
    cur.execute("create schema raw")
    tables = duck.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'"
    ).fetchall()
    types = {"BIGINT": "bigint", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}
    for (table,) in tables:
        columns = duck.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        ddl = ", ".join(f'"{name}" {types.get(kind, "text")}' for name, kind in columns)
        cur.execute(f"create table raw.{table} ({ddl})")
        path = tmp_path / f"{table}.csv"
        duck.execute(f"copy raw.{table} to '{path}' (header, format csv)")
        names = ", ".join(f'"{name}"' for name, _ in columns)
        with path.open(encoding="utf-8") as f:
            cur.copy_expert(f"copy raw.{table} ({names}) from stdin with (format csv, header)", f)
    pg.commit()


# every column of the golden record and its traits, and every segment's members
COMPARED_SQL = {
    "profiles": "select * from marts.dim_profiles order by person_id",
    "visitors": "select * from marts.dim_visitors order by visitor_id",
    "members": "select segment_name, person_id from segments.segment_members order by 1, 2",
    "activation": "select * from marts.activation_identifiers order by person_id",
}


def rows(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return [tuple(str(v) if v is not None else None for v in r) for r in cursor.fetchall()]


def test_the_dbt_project_builds_on_postgres_like_on_duckdb(postgres_available, tmp_path: Path):
    import psycopg2

    landing = tmp_path / "landing"
    copy_sample_exports(landing)
    build_db = tmp_path / "build.duckdb"
    duck = duckdb.connect(str(build_db))
    for spec in SOURCES:
        load_source(duck, spec, landing)
    update_dictionary(duck)  # the normalized e-mails and phones staging reads

    database = f"klant_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(postgres_available)
    admin.autocommit = True
    admin.cursor().execute(f"create database {database}")
    try:
        pg = psycopg2.connect(postgres_dsn(database))
        copy_raw_to_postgres(duck, pg, tmp_path)
        duck.close()

        dbt_build("postgres", {"KLANT_PG_DATABASE": database}, tmp_path / "target_pg")
        dbt_build("duckdb", {"KLANT_BUILD_DB": str(build_db)}, tmp_path / "target_duck")

        cur = pg.cursor()
        on_postgres = {name: rows(cur, sql) for name, sql in COMPARED_SQL.items()}
        pg.close()
        duck = duckdb.connect(str(build_db), read_only=True)
        on_duckdb = {name: rows(duck.cursor(), sql) for name, sql in COMPARED_SQL.items()}
        duck.close()
        assert len(on_postgres["profiles"]) > 1000
        assert len(on_postgres["members"]) > 1000
        for name in COMPARED_SQL:
            assert on_postgres[name] == on_duckdb[name], name
    finally:
        admin.cursor().execute(f"drop database if exists {database} with (force)")
        admin.close()
