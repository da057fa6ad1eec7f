"""The `klant` command: run the pipeline, query and roll back the published store."""

from __future__ import annotations

import argparse
import os
import socket
import sys

import duckdb

from klant.settings import DEFAULT_LANDING_DIR, SAMPLE_AS_OF, Settings

EXAMPLE_QUERY = (
    "select person_id, first_name, last_name, email, order_count, revenue "
    "from dim_profiles order by revenue desc limit 5"
)


def _instance():
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_dead_runs(instance) -> list[str]:
    """Fail the runs this machine's `klant` started whose process died (kill -9, power loss).

    A dead run still holds its place in the build pool: without this, every later run would
    wait for it forever.
    """
    import dagster as dg

    reaped = []
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED], tags={"klant/host": socket.gethostname()}
        )
    )
    for run in runs:
        pid = int(run.tags.get("klant/pid", "0"))
        if pid and not _pid_alive(pid):
            instance.report_run_failed(run, "the process running it died (killed or crashed)")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            reaped.append(run.run_id)
    return reaped


def run_pipeline() -> bool:
    """Run the full job once, in this process, recorded in the Dagster instance."""
    from klant.definitions import defs

    job = defs.resolve_job_def("klant_full")
    with _instance() as instance:
        for run_id in reap_dead_runs(instance):
            print(f"run {run_id} had died without finishing: marked failed", file=sys.stderr)
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            tags={"klant/host": socket.gethostname(), "klant/pid": str(os.getpid())},
        )
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure or event.event_type_value == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                if event.is_step_failure:
                    print(f"FAILED {event.step_key}: {data.error.message.strip()}", file=sys.stderr)
                elif not data.passed:
                    print(f"CHECK FAILED {data.check_name} on {data.asset_key.to_user_string()}")
    return result.success


def summary(settings: Settings) -> str:
    """What readers see now: the live build and its tables with row counts."""
    path = settings.published_db
    if not path.exists():
        return "nothing is published yet"
    con = duckdb.connect(str(path), read_only=True)
    try:
        build_id, published_at = con.execute(
            "select build_id, published_at from klant_build"
        ).fetchone()
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name not like 'klant_%' order by table_schema, table_name"
        ).fetchall()
        lines = [f"published build {build_id} (at {published_at:%Y-%m-%d %H:%M:%S} UTC)"]
        lines.append(f"readers open: {path}")
        for schema, table in tables:
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            lines.append(f"  {schema + '.' + table:<40} {count:>10,} rows")
        return "\n".join(lines)
    finally:
        con.close()


def query(settings: Settings, sql: str) -> str:
    """Run one SQL statement against the published store, read-only."""
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        return str(con.sql(sql))
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="klant", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="load new exports, build, audit and publish")
    commands.add_parser("demo", help="run, then show what was published and how to query it")
    commands.add_parser("status", help="show the published build and its tables")
    commands.add_parser("rollback", help="publish the previous build again")
    sql = commands.add_parser("sql", help="query the published store (read-only)")
    sql.add_argument("statement")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command in ("run", "demo"):
        if args.command == "demo" and settings.landing_dir == DEFAULT_LANDING_DIR.resolve():
            # the bundled sample ends on a fixed day: measure "days since" from there, not today
            os.environ.setdefault("KLANT_AS_OF", SAMPLE_AS_OF)
        ok = run_pipeline()
        print(summary(settings))
        if not ok:
            print("the run failed: readers still see the last published build", file=sys.stderr)
            return 1
        if args.command == "demo":
            print(f'\nquery it:\n  .venv/bin/klant sql "{EXAMPLE_QUERY}"\n')
            print(query(settings, EXAMPLE_QUERY))
            print(
                "or from Python: duckdb.connect("
                f"'{settings.published_db}', read_only=True).sql('select * from dim_profiles')"
            )
            print(
                f"\nactivation files (hashed, consent-filtered, with adds/removes): "
                f"{settings.exports_dir}/<segment>/<destination>/latest/"
            )
        return 0
    if args.command == "status":
        print(summary(settings))
        return 0
    if args.command == "sql":
        print(query(settings, args.statement))
        return 0
    if args.command == "rollback":
        from klant.publish import rollback

        con = duckdb.connect(str(settings.build_db))
        try:
            target = rollback(con, settings)
        finally:
            con.close()
        print(f"readers now see build {target}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
