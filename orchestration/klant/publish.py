"""Write-audit-publish for DuckDB: readers open an immutable snapshot of the last audited build.

DuckDB lets one process write a file and blocks every other process while it does, so readers
never open the build file. Each passing build is copied into its own snapshot file under
``published/builds/``, which nothing writes again; ``published/klant.duckdb`` is a symlink that
is swapped to the new snapshot in one atomic rename. A reader that opened the previous snapshot
keeps reading it, a reader that opens the path afterwards sees the new one, and a failed audit
never reaches the swap.
"""

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from klant.settings import Settings, utc_now

DEFAULT_KEEP_BUILDS = 5
# the column every published table gains: the id of the build its rows come from
BUILD_ID_COLUMN = "build_id"
# A reader resolves the symlink, then opens the file: a snapshot superseded less than this long
# ago may still be on its way to being opened, so it is not deleted yet.
DEFAULT_PRUNE_GRACE_SECONDS = 600.0


class PublishRefused(Exception):
    """The build may not be published (a failed or missing audit)."""


@dataclass(frozen=True)
class PublishedTable:
    """A dbt model that readers see: where the build wrote it and where readers find it."""

    model: str
    build_schema: str
    build_name: str
    schema: str  # schema in the published store: marts -> main, segments -> segments

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.build_name}"


def published_tables(manifest: dict) -> list[PublishedTable]:
    """The models tagged `published` in the dbt manifest, in name order."""
    tables = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or "published" not in node.get("tags", []):
            continue
        schema = "segments" if node["schema"] == "segments" else "main"
        name = node.get("alias") or node["name"]
        tables.append(PublishedTable(node["name"], node["schema"], name, schema))
    return sorted(tables, key=lambda t: (t.schema, t.model))


def ensure_audit_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The build's audit tables: every check result and every publication."""
    con.execute("create schema if not exists audit")
    con.execute(
        """
        create table if not exists audit.check_results (
            run_id varchar not null,
            check_name varchar not null,
            table_name varchar not null,
            passed boolean not null,
            severity varchar not null,
            details varchar,
            checked_at timestamp not null
        )
        """
    )
    con.execute(
        """
        create table if not exists audit.publish_log (
            build_id varchar primary key,
            run_id varchar,
            action varchar not null,
            snapshot varchar not null,
            published_at timestamp not null,
            row_counts varchar,
            checks varchar
        )
        """
    )


def record_check(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    check_name: str,
    table_name: str,
    passed: bool,
    severity: str,
    details: dict,
) -> None:
    """Keep a check's outcome next to the build, so publication can verify the audit itself."""
    ensure_audit_schema(con)
    con.execute(
        "insert into audit.check_results values (?, ?, ?, ?, ?, ?, ?)",
        [
            run_id, check_name, table_name, passed, severity,
            json.dumps(details, default=str, sort_keys=True), utc_now(),
        ],
    )  # fmt: skip


def audit_verdict(
    con: duckdb.DuckDBPyConnection, run_id: str, required: list[str]
) -> tuple[bool, list[str]]:
    """Whether every required check ran in this run and no blocking (ERROR) check failed."""
    ensure_audit_schema(con)
    rows = con.execute(
        "select check_name, passed, severity from audit.check_results where run_id = ?",
        [run_id],
    ).fetchall()
    problems = [f"{name} failed" for name, passed, sev in rows if not passed and sev == "ERROR"]
    ran = {name for name, _, _ in rows}
    problems += [f"{name} did not run" for name in required if name not in ran]
    return not problems, problems


def _swap_symlink(link: Path, target: str) -> None:
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)  # rename(2) is atomic: readers see the old target or the new one
    fd = os.open(link.parent, os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_build(settings: Settings) -> str | None:
    """The build id readers see now, or None before the first publication."""
    link = settings.published_db
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).stem


def publish(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    tables: list[PublishedTable],
    required_checks: list[str],
    keep: int = DEFAULT_KEEP_BUILDS,
    grace_seconds: float = DEFAULT_PRUNE_GRACE_SECONDS,
) -> tuple[str, dict[str, int]]:
    """Copy the audited build into a new snapshot and make it the one readers open."""
    ok, problems = audit_verdict(con, run_id, required_checks)
    if not ok:
        raise PublishRefused(
            "the build did not pass its audit, the previous build stays published: "
            + "; ".join(problems)
        )
    build_id = f"{utc_now():%Y%m%dT%H%M%S}-{run_id[:8]}"
    builds = settings.published_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    # a publication killed half-way leaves its unfinished snapshot behind; this process holds
    # the build file, so no other publication can be writing one now
    for orphan in builds.glob(".*.duckdb.tmp"):
        orphan.unlink()
    final = builds / f"{build_id}.duckdb"
    tmp = builds / f".{build_id}.duckdb.tmp"
    tmp.unlink(missing_ok=True)

    counts: dict[str, int] = {}
    con.execute(f"attach '{tmp}' as snapshot")  # path built by klant, not user input
    try:
        con.execute("create schema if not exists snapshot.segments")
        for table in tables:
            # every published row says which build it belongs to
            con.execute(
                f'create table snapshot.{table.schema}."{table.build_name}" as '
                f"select *, cast(? as varchar) as {BUILD_ID_COLUMN} "
                f'from "{table.build_schema}"."{table.build_name}"',
                [build_id],
            )
            counts[table.qualified] = con.execute(
                f'select count(*) from snapshot.{table.schema}."{table.build_name}"'
            ).fetchone()[0]
        checks = con.execute(
            "select check_name, passed, severity, details from audit.check_results "
            "where run_id = ? order by check_name",
            [run_id],
        ).fetchall()
        con.execute(
            "insert into audit.publish_log values (?, ?, 'publish', ?, ?, ?, ?)",
            [
                build_id, run_id, final.name, utc_now(), json.dumps(counts, sort_keys=True),
                json.dumps([list(c) for c in checks]),
            ],
        )  # fmt: skip
        con.execute(
            "create table snapshot.main.klant_build as "
            "select build_id, run_id, published_at, row_counts, checks "
            "from audit.publish_log where build_id = ?",
            [build_id],
        )
        con.execute(
            "create table snapshot.main.klant_publish_log as "
            "select * from audit.publish_log order by published_at"
        )
    finally:
        con.execute("detach snapshot")
    os.replace(tmp, final)
    _swap_symlink(settings.published_db, f"builds/{final.name}")
    _prune(settings, keep, grace_seconds)
    return build_id, counts


def published_history(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, datetime]]:
    """(build id, action, time) of every publication and rollback, oldest first."""
    ensure_audit_schema(con)
    return con.execute(
        "select build_id, action, published_at from audit.publish_log order by published_at"
    ).fetchall()


def rollback(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """Point readers back at the newest published build before the current one."""
    live = current_build(settings)
    snapshots = {
        p.stem for p in (settings.published_dir / "builds").glob("*.duckdb") if p.is_file()
    }
    candidates = [
        build_id
        for build_id, action, _ in published_history(con)
        if action == "publish" and build_id in snapshots
    ]
    if live not in candidates or candidates.index(live) == 0:
        raise PublishRefused(f"no earlier published build to roll back to (live: {live})")
    target = candidates[candidates.index(live) - 1]
    _swap_symlink(settings.published_db, f"builds/{target}.duckdb")
    con.execute(
        "insert into audit.publish_log values (?, null, 'rollback', ?, ?, null, null)",
        [f"rollback-{utc_now():%Y%m%dT%H%M%S%f}-to-{target}", f"{target}.duckdb", utc_now()],
    )
    return target


def _prune(settings: Settings, keep: int, grace_seconds: float) -> None:
    """Delete snapshots past the newest `keep` once superseded for the grace period.

    The live snapshot always stays; a reader that has an old one open keeps its inode.
    """
    live = current_build(settings)
    snapshots = sorted((settings.published_dir / "builds").glob("*.duckdb"), reverse=True)
    now = datetime.now().timestamp()
    for newer, old in zip(snapshots[keep - 1 :], snapshots[keep:], strict=False):
        if old.stem != live and now - newer.stat().st_mtime >= grace_seconds:
            old.unlink()


def build_publish_asset(manifest: dict, required_checks: list[str]):
    """The publish step as an asset downstream of every published table and its checks."""
    import dagster as dg

    from klant.resources import KlantConfig
    from klant.transform import model_asset_keys

    tables = published_tables(manifest)
    keys = model_asset_keys(manifest)

    @dg.asset(
        key=["published"],
        group_name="publish",
        deps=[keys[t.model] for t in tables],
        pool="klant_build_db",
        kinds={"duckdb"},
        description="Atomically publish the audited build to the readers' store.",
    )
    def published(context: dg.AssetExecutionContext, klant: KlantConfig) -> dg.MaterializeResult:
        settings = klant.settings
        klant.preflight()
        with klant.build_db() as con:
            try:
                build_id, counts = publish(
                    con, settings, context.run.run_id, tables, required_checks
                )
            except PublishRefused as refused:
                raise dg.Failure(description=str(refused)) from refused
        context.log.info(f"published build {build_id} at {settings.published_db}")
        return dg.MaterializeResult(
            metadata={
                "build_id": build_id,
                "path": dg.MetadataValue.path(str(settings.published_db)),
                "row_counts": dg.MetadataValue.json(counts),
                **{f"rows/{name}": n for name, n in counts.items()},
            }
        )

    return published
