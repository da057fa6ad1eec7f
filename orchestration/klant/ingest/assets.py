"""One Dagster asset per landing source: new files into raw, bad rows into quarantine."""

import dagster as dg

from klant.ingest.loader import IngestRefused, load_source
from klant.ingest.sources import SOURCES, SourceSpec
from klant.privacy.keys import request_transform
from klant.resources import KlantConfig

BUILD_DB_POOL = "klant_build_db"  # one writer at a time on the DuckDB build file


def build_ingest_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    """The raw table of one source as an asset; a refused file fails it after the rest loaded."""

    @dg.asset(
        key=["raw", spec.table],
        group_name="ingest",
        description=f"Append-only raw table of {spec.name} exports ({spec.folder}/ landing).",
        pool=BUILD_DB_POOL,
        kinds={"duckdb", "python"},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    )
    def _ingest(context: dg.AssetExecutionContext, klant: KlantConfig) -> dg.MaterializeResult:
        klant.preflight()
        try:  # privacy requests keep no identifier in clear: it becomes keyed hashes
            transform = request_transform(klant.settings) if spec.redacted_columns else None
        except ValueError as error:  # an unusable privacy key: configuration, not data
            raise dg.Failure(description=str(error), allow_retries=False) from error
        with klant.build_db() as con:
            try:
                results = load_source(con, spec, klant.settings.landing_dir, transform)
            except IngestRefused as refused:  # configuration, not a file: nothing was loaded
                raise dg.Failure(description=str(refused), allow_retries=False) from refused
            total = con.execute(f"select count(*) from raw.{spec.table}").fetchone()[0]
        for r in results:
            if r.status == "loaded":
                context.log.info(
                    f"{r.source_file}: {r.rows_loaded} rows loaded, "
                    f"{r.rows_quarantined} quarantined of {r.lines} lines (load {r.load_id})"
                )
            elif r.status == "skipped":
                context.log.info(f"{r.source_file}: already loaded as {r.load_id}, skipped")
        new_columns = sorted({c for r in results for c in r.new_columns})
        if new_columns:
            context.log.warning(f"new columns kept in raw.{spec.table}: {', '.join(new_columns)}")
        refused = [r for r in results if r.status == "refused"]
        if refused:
            raise dg.Failure(
                description="; ".join(r.error or r.source_file for r in refused),
                metadata={"refused_files": [r.source_file for r in refused]},
                allow_retries=False,  # a refused file stays refused until someone fixes it
            )
        loaded = [r for r in results if r.status == "loaded"]
        return dg.MaterializeResult(
            metadata={
                "files_loaded": len(loaded),
                "files_skipped": sum(r.status == "skipped" for r in results),
                "rows_loaded": sum(r.rows_loaded for r in loaded),
                "rows_quarantined": sum(r.rows_quarantined for r in loaded),
                "new_columns": ", ".join(new_columns) or "none",
                "dagster/row_count": total,
            }
        )

    return _ingest


ingest_assets = [build_ingest_asset(spec) for spec in SOURCES]
