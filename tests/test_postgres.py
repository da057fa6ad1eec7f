"""The same dbt project builds on PostgreSQL and gives the same profiles as on DuckDB, with
least-privilege roles: the loader writes raw, the transformer builds, the reader reads only
published tables. One build serves every test in this module."""

import json
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from klant.identity.dictionary import update_dictionary
from klant.ingest.loader import load_source
from klant.ingest.sources import SOURCES
from klant.privacy.keys import request_transform
from klant.settings import DBT_PROJECT_DIR, Settings
from tests.conftest import (
    copy_sample_exports,
    postgres_dsn,
    recomputed_identifiers,
    recomputed_persons,
    rows_only_in_each,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DBT = Path(sys.executable).with_name("dbt")


def dbt(args: list[str], env: dict[str, str], target_path: Path, variables: dict | None = None):
    """The project's dbt, with profiles.yml read from the project and the tests' clock."""
    variables = json.dumps({"klant__as_of": os.environ["KLANT_AS_OF"], **(variables or {})})
    return subprocess.run(
        [str(DBT), *args, "--target-path", str(target_path), "--vars", variables],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), **env},
        capture_output=True,
        text=True,
    )


def dbt_build(target: str, env: dict[str, str], target_path: Path) -> str:
    """Build as Dagster does: everything up to the segments, then the segment rollup."""
    output = ""
    for selection in (["--exclude", "tag:segment_rollup"], ["--select", "tag:segment_rollup"]):
        done = dbt(["build", "--target", target, *selection], env, target_path)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        output += done.stdout
    return output


def copy_raw_to_postgres(duck: duckdb.DuckDBPyConnection, pg, tmp_path: Path) -> None:
    """Every raw table as ingest wrote it in DuckDB, copied column for column into PostgreSQL
    (into the schema raw klant_create_roles made)."""
    cur = pg.cursor()
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
    "audiences": "select * from marts.fct_audience_memberships "
    "order by profile_id, audience_code, provider",
    "consent": "select * from marts.fct_consent_changes order by consent_change_id",
}


def rows(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return [tuple(str(v) if v is not None else None for v in r) for r in cursor.fetchall()]


JOBS = ("loader", "transformer", "publisher", "reader")


@dataclass
class PostgresBuild:
    """The sample built on a fresh PostgreSQL database, the raw tables loaded by a loader login
    and the project built by a transformer login, beside the same build on DuckDB."""

    database: str
    users: dict[str, str]  # job -> a login user in that job's group role
    password: str
    build_db: Path
    duckdb_output: str

    @contextmanager
    def connect(self, job: str | None = None):
        """A connection as the job's login user, or as the administrator; closed after."""
        import psycopg2

        login = {} if job is None else {"user": self.users[job], "password": self.password}
        pg = psycopg2.connect(postgres_dsn(self.database), **login)
        try:
            yield pg
        finally:
            pg.close()


def create_login_users(admin, run: str, password: str) -> dict[str, str]:
    """One LOGIN user per job, a member of that job's group role. The sessions of those that
    create objects act as the group role itself (SET ROLE on login), so what they create
    belongs to the role and any other member can replace it."""
    users = {job: f"klant_test_{run}_{job}" for job in JOBS}
    cur = admin.cursor()
    for job, user in users.items():
        cur.execute(f"create role {user} login password %s in role klant_{job}", [password])
        if job in ("loader", "transformer", "publisher"):
            cur.execute(f"alter role {user} set role = 'klant_{job}'")
    return users


@pytest.fixture(scope="module")
def postgres_build(postgres_available, tmp_path_factory: pytest.TempPathFactory):
    import psycopg2

    root = tmp_path_factory.mktemp("postgres")
    landing = root / "landing"
    copy_sample_exports(landing)
    build_db = root / "build.duckdb"
    duck = duckdb.connect(str(build_db))
    settings = Settings(landing_dir=landing, warehouse_dir=root / "warehouse")
    for spec in SOURCES:  # as the ingest assets do: privacy requests keep no identifier in clear
        transform = request_transform(settings) if spec.redacted_columns else None
        load_source(duck, spec, landing, transform)
    update_dictionary(duck)  # the normalized e-mails and phones staging reads

    run = uuid.uuid4().hex[:10]
    database, password = f"klant_test_{run}", uuid.uuid4().hex
    admin = psycopg2.connect(postgres_available)
    admin.autocommit = True
    admin.cursor().execute(f"create database {database}")
    users: dict[str, str] = {}
    try:
        # roles are cluster-wide: other databases (or an earlier run) may have made them already
        roles = dbt(
            ["run-operation", "klant_create_roles", "--target", "postgres"],
            {"KLANT_PG_DATABASE": database},
            root / "target_roles",
        )
        assert roles.returncode == 0, roles.stdout[-4000:] + roles.stderr[-2000:]
        users = create_login_users(admin, run, password)
        built = PostgresBuild(database, users, password, build_db, duckdb_output="")

        with built.connect("loader") as loader:
            copy_raw_to_postgres(duck, loader, root)
        duck.close()
        as_transformer = {
            "KLANT_PG_DATABASE": database,
            "KLANT_PG_USER": users["transformer"],
            "KLANT_PG_PASSWORD": password,
        }
        dbt_build("postgres", as_transformer, root / "target_pg")
        built.duckdb_output = dbt_build(
            "duckdb", {"KLANT_BUILD_DB": str(build_db)}, root / "target_duck"
        )
        yield built
    finally:
        admin.cursor().execute(f"drop database if exists {database} with (force)")
        for user in users.values():
            admin.cursor().execute(f"drop role if exists {user}")
        admin.close()


def test_the_dbt_project_builds_on_postgres_like_on_duckdb(postgres_build: PostgresBuild):
    with postgres_build.connect() as pg:
        on_postgres = {name: rows(pg.cursor(), sql) for name, sql in COMPARED_SQL.items()}
    duck = duckdb.connect(str(postgres_build.build_db), read_only=True)
    on_duckdb = {name: rows(duck.cursor(), sql) for name, sql in COMPARED_SQL.items()}
    duck.close()
    assert len(on_postgres["profiles"]) > 1000
    assert len(on_postgres["members"]) > 1000
    for name in COMPARED_SQL:
        assert on_postgres[name] == on_duckdb[name], name


def relations(build: PostgresBuild, schemas: tuple[str, ...]) -> list[str]:
    """Every table and view in the schemas, as the administrator sees them."""
    with build.connect() as pg, pg.cursor() as cur:
        cur.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema = any(%s) order by 1",
            [list(schemas)],
        )
        return [name for (name,) in cur.fetchall()]


def denied(build: PostgresBuild, job: str, sql: str) -> bool:
    """True when the job's login user gets "permission denied" for the statement (rolled back
    either way)."""
    import psycopg2

    with build.connect(job) as pg, pg.cursor() as cur:
        try:
            cur.execute(sql)
        except psycopg2.errors.InsufficientPrivilege:
            return True
        finally:
            pg.rollback()
    return False


def test_the_reader_reads_published_tables_and_nothing_else(postgres_build: PostgresBuild):
    published = relations(postgres_build, ("marts", "segments"))
    assert "marts.dim_profiles" in published
    assert "segments.segment_members" in published
    with postgres_build.connect("reader") as pg, pg.cursor() as cur:
        cur.execute("select count(*) from marts.dim_profiles")
        assert cur.fetchone()[0] > 1000
        for name in published:
            cur.execute(f"select * from {name} limit 1")  # raises if any is not granted
    hidden = relations(postgres_build, ("raw", "staging", "intermediate"))
    assert {name.split(".")[0] for name in hidden} == {"raw", "staging", "intermediate"}
    assert [
        name for name in hidden if not denied(postgres_build, "reader", f"select * from {name}")
    ] == []
    assert denied(postgres_build, "reader", "delete from marts.dim_profiles")
    assert denied(postgres_build, "reader", "create table marts.mine (x int)")
    assert denied(postgres_build, "reader", "create table public.mine (x int)")


def test_the_loader_writes_raw_and_reads_no_build(postgres_build: PostgresBuild):
    with postgres_build.connect("loader") as pg, pg.cursor() as cur:
        cur.execute("select count(*) from raw.crm_contacts")
        before = cur.fetchone()[0]
        cur.execute("insert into raw.crm_contacts select * from raw.crm_contacts limit 1")
        cur.execute("create table raw.loader_probe (x int)")
        cur.execute("select count(*) from raw.crm_contacts")
        assert cur.fetchone()[0] == before + 1
        pg.rollback()
    for name in ("marts.dim_profiles", "segments.segment_members", "staging.stg_crm__contacts"):
        assert denied(postgres_build, "loader", f"select * from {name}"), name


def test_the_transformer_reads_raw_and_owns_what_it_built(postgres_build: PostgresBuild):
    with postgres_build.connect("transformer") as pg, pg.cursor() as cur:
        cur.execute("select count(*) from raw.crm_contacts")
        assert cur.fetchone()[0] > 1000
    assert denied(postgres_build, "transformer", "delete from raw.crm_contacts")
    with postgres_build.connect() as pg, pg.cursor() as cur:
        # the build ran as the transformer's login: its session acted as the group role
        cur.execute(
            "select distinct tableowner from pg_tables "
            "where schemaname in ('staging', 'intermediate', 'marts', 'segments')"
        )
        assert cur.fetchall() == [("klant_transformer",)]
        cur.execute("select distinct tableowner from pg_tables where schemaname = 'raw'")
        assert cur.fetchall() == [("klant_loader",)]


def test_the_publisher_may_swap_published_schemas_and_read_nothing_else(
    postgres_build: PostgresBuild,
):
    with postgres_build.connect("publisher") as pg, pg.cursor() as cur:
        cur.execute("select count(*) from segments.segment_members")
        assert cur.fetchone()[0] > 1000
        # a swap: the live schema steps aside, the next one takes its name, in one transaction
        cur.execute("create schema segments_next")
        cur.execute("alter schema segments rename to segments_previous")
        cur.execute("alter schema segments_next rename to segments")
        pg.rollback()
    assert denied(postgres_build, "publisher", "select * from raw.crm_contacts")
    assert denied(postgres_build, "publisher", "select * from intermediate.int_identity_edges")
    assert denied(postgres_build, "publisher", "delete from marts.dim_profiles")


def test_duckdb_builds_without_grants(postgres_build: PostgresBuild):
    assert "Grants for relations are not supported" not in postgres_build.duckdb_output
    assert "Completed successfully" in postgres_build.duckdb_output


def test_the_build_stops_before_any_model_when_the_roles_are_missing(
    postgres_build: PostgresBuild, tmp_path: Path
):
    missing = f"klant_absent_{uuid.uuid4().hex[:10]}"
    done = dbt(
        ["run", "--target", "postgres", "--select", "stg_crm__contacts"],
        {"KLANT_PG_DATABASE": postgres_build.database},
        tmp_path / "target",
        {"klant__reader_role": missing},
    )
    assert done.returncode != 0
    assert f"PostgreSQL roles {missing} do not exist" in done.stdout
    assert "klant_create_roles" in done.stdout
    assert "OK created" not in done.stdout


def test_klant_create_roles_is_a_logged_no_op_on_duckdb(tmp_path: Path):
    done = dbt(
        ["run-operation", "klant_create_roles", "--target", "duckdb"],
        {"KLANT_BUILD_DB": str(tmp_path / "build.duckdb")},
        tmp_path / "target",
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert "duckdb has no roles or grants; nothing to do" in done.stdout


def run_as_transformer(build: PostgresBuild, model: str, tmp_path: Path, *extra: str) -> str:
    """`dbt run` of one model on the PostgreSQL build as the transformer login; its output."""
    as_transformer = {
        "KLANT_PG_DATABASE": build.database,
        "KLANT_PG_USER": build.users["transformer"],
        "KLANT_PG_PASSWORD": build.password,
    }
    args = ["run", "--target", "postgres", "--select", model, *extra]
    done = dbt(args, as_transformer, tmp_path / "target")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


def differs_from_full_refresh(build: PostgresBuild, model: str, tmp_path: Path) -> tuple[int, int]:
    """rows_only_in_each between an incremental model's table as it is and as `dbt run
    --full-refresh` then leaves it (which it does: the build keeps the rebuilt table)."""
    table, kept = f"intermediate.{model}", f"public.{model}__incremental"
    with build.connect() as pg, pg.cursor() as cur:
        cur.execute(f"create table {kept} as select * from {table}")
        pg.commit()
    try:
        run_as_transformer(build, model, tmp_path, "--full-refresh")
        with build.connect() as pg, pg.cursor() as cur:
            return rows_only_in_each(cur, table, kept)
    finally:
        with build.connect() as pg, pg.cursor() as cur:
            cur.execute(f"drop table {kept}")
            pg.commit()


def test_profile_ranking_is_incremental_by_person_on_postgres(
    postgres_build: PostgresBuild, tmp_path: Path
):
    """The person-incremental ranking's PostgreSQL path (MD5 fingerprints): a rerun ranks no
    one again; after two persons' candidates changed, it ranks those two again, with the rows a
    full rebuild gives. It changes the build: the tests that compare it come first."""
    ranked = "intermediate.int_profile_values_ranked"

    def run_ranked() -> str:
        return run_as_transformer(postgres_build, "int_profile_values_ranked", tmp_path)

    def recomputed(output: str) -> tuple[int, int]:
        return recomputed_persons(output, "int_profile_values_ranked")

    done, total = recomputed(run_ranked())
    assert done == 0 and total > 1000
    with postgres_build.connect() as pg, pg.cursor() as cur:
        cur.execute(f"select person_id from {ranked} group by person_id order by 1 limit 2")
        erased, restated = (row[0] for row in cur.fetchall())
        cur.execute(
            "delete from intermediate.int_profile_values_unioned where person_id = %s", [erased]
        )
        cur.execute(
            "update intermediate.int_profile_values_unioned "
            "set observed_at = observed_at + interval '1 day' where person_id = %s",
            [restated],
        )
        pg.commit()
    assert recomputed(run_ranked()) == (2, total - 1)
    assert differs_from_full_refresh(postgres_build, "int_profile_values_ranked", tmp_path) == (
        0,
        0,
    )
    with postgres_build.connect() as pg, pg.cursor() as cur:
        cur.execute(f"select count(*) from {ranked} where person_id = %s", [erased])
        assert cur.fetchone()[0] == 0


def test_the_identity_rules_are_incremental_by_link_group_on_postgres(
    postgres_build: PostgresBuild, tmp_path: Path
):
    """int_identifier_links_limited's PostgreSQL path (macros/identity_incremental.sql): a rerun
    computes no link again; after one link is gone, it computes only that link's link group
    again, with the rows a full rebuild gives. It changes the build, as the test above does."""
    limited = "intermediate.int_identifier_links_limited"

    def run_limited() -> str:
        return run_as_transformer(postgres_build, "int_identifier_links_limited", tmp_path)

    def recomputed(output: str) -> tuple[int, int]:
        found = recomputed_identifiers(output)
        assert found is not None, output[-3000:]
        return found

    done, total = recomputed(run_limited())
    assert done == 0 and total > 1000
    with postgres_build.connect() as pg, pg.cursor() as cur:
        # a link between two identifiers of a link group of three or more
        cur.execute(
            f"select l.identifier_id_a, l.identifier_id_b, l.link_group from {limited} as l "
            f"where not l.is_self_link and l.link_group in (select link_group from {limited} "
            "where is_self_link group by link_group having count(*) >= 3) "
            "order by l.link_group, l.identifier_id_a, l.identifier_id_b limit 1"
        )
        a, b, group = cur.fetchone()
        cur.execute(
            f"select count(*) from {limited} where is_self_link and link_group = %s", [group]
        )
        members = cur.fetchone()[0]
        cur.execute(
            "delete from intermediate.int_identifiers_linked "
            "where identifier_id_a = %s and identifier_id_b = %s",
            [a, b],
        )
        pg.commit()
    assert recomputed(run_limited()) == (members, total)
    assert differs_from_full_refresh(postgres_build, "int_identifier_links_limited", tmp_path) == (
        0,
        0,
    )
