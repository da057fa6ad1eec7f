"""The privacy step as a Dagster asset: after the raw loads, before any dbt model reads them."""

import dagster as dg

from klant.identity.assets import RAW_SOURCES
from klant.ingest.assets import BUILD_DB_POOL
from klant.privacy import erasure, retention
from klant.privacy.keys import privacy_key
from klant.privacy.purge import (
    PurgeReport,
    delete_suppressed_raw_rows,
    ensure_privacy_schema,
    register_tokens,
    scrub_build,
    scrub_exports,
    scrub_snapshots,
)
from klant.resources import KlantConfig
from klant.settings import utc_now
from klant.transform import PRIVACY_PURGE_KEY

# the marts and segments whose rows an erasure or expiry removes on purpose: the volume checks
# count those rows back in (audit.expected_removals)
_EXPECTED_SCHEMAS = ("marts.", "segments.")


@dg.asset(
    key=PRIVACY_PURGE_KEY,
    group_name="ingest",
    deps=[
        *RAW_SOURCES,
        ["raw", "dmp_audiences"],
        ["raw", "privacy_requests"],
        ["raw", "identifier_dictionary"],
    ],  # fmt: skip
    description=(
        "Erasure requests and retention, applied before dbt reads raw: suppressed identifiers' "
        "raw rows deleted, erased people and expired visitors removed from every table, "
        "published snapshot and export file; logged in privacy.* without clear identifiers."
    ),
    pool=BUILD_DB_POOL,
    kinds={"duckdb", "python"},
)
def privacy_purge(context: dg.AssetExecutionContext, klant: KlantConfig) -> dg.MaterializeResult:
    settings = klant.settings
    klant.preflight()
    try:
        key = privacy_key(settings)
        now = retention.as_of()
    except ValueError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    run_id = context.run.run_id

    with klant.build_db() as con:
        ensure_privacy_schema(con)
        pending = erasure.pending_requests(con)
    if pending:  # the current graph, this run's new files included, names what to erase
        context.log.info(f"{len(pending)} new erasure request(s): building the identity graph")
        erasure.build_scratch_graph(settings)

    with klant.build_db() as con:
        erasure.resolve(con, key, pending)
        erasure.drop_scratch(con)
        tokens, substrings = erasure.clear_tokens(con, pending)
        expiry = retention.expired_visitors(con, now)
        tokens |= expiry.tokens()
        # files first: if the run dies after them, the next run finds the same requests
        # pending and the same visitors expired, and scrubbing again is a no-op
        files = PurgeReport()
        if tokens:
            register_tokens(con, tokens)
            files.merge(scrub_snapshots(con, settings, tokens))
            files.merge(scrub_exports(settings.exports_dir, tokens))
        con.begin()
        try:
            erasure.add_to_suppression_list(con, key, pending)
            report = delete_suppressed_raw_rows(con, key)
            report.merge(retention.delete_expired_raw_rows(con, expiry))
            if tokens:
                report.merge(scrub_build(con, tokens, substrings))
            report.merge(files)
            expected = {
                table: rows
                for table, rows in report.rows_removed.items()
                if table.startswith(_EXPECTED_SCHEMAS)
            }
            if expected:
                removed_at = utc_now()
                con.executemany(
                    "insert into audit.expected_removals values (?, ?, ?, ?)",
                    [(run_id, t, rows, removed_at) for t, rows in sorted(expected.items())],
                )
            erasure.log_erasures(con, key, run_id, pending, report)
            if report.total or expiry.anonymous_ids:
                con.execute(
                    "insert into privacy.purge_log values (?, ?, ?, ?, ?, ?, ?)",
                    [
                        run_id, utc_now(),
                        "erasure+suppression+retention", now,
                        sum(len(r.person_ids) for r in pending) + len(expiry.anonymous_ids),
                        report.tables_json(), report.total,
                    ],
                )  # fmt: skip
            con.commit()
        except BaseException:
            con.rollback()
            raise
        suppressed = con.execute("select count(*) from privacy.suppression_list").fetchone()[0]

    for request in pending:
        context.log.info(
            f"erasure {request.request_id}: {len(request.person_ids)} person id(s), "
            f"{len(request.identifier_keys)} identifier(s) suppressed"
        )
    if expiry.anonymous_ids:
        context.log.info(
            f"{len(expiry.anonymous_ids)} visitor(s) unseen since {expiry.visitor_cutoff:%Y-%m-%d}"
            " expired"
        )
    return dg.MaterializeResult(
        metadata={
            "erasure_requests_applied": len(pending),
            "persons_erased": sum(len(r.person_ids) for r in pending),
            "visitors_expired": len(expiry.anonymous_ids),
            "suppression_list_size": suppressed,
            "rows_removed": report.total,
            "tables_touched": dg.MetadataValue.json(dict(sorted(report.rows_removed.items()))),
            "snapshots_rewritten": len(files.snapshots_rewritten),
            "export_files_rewritten": len(files.export_files_rewritten),
        }
    )
