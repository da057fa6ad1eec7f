"""klant's one Definitions: ingest -> dbt (identity, profiles, segments) -> publish -> exports."""

import dagster as dg

from klant.activation import build_activation_assets
from klant.audit import (
    blocking_check_names,
    build_freshness_checks,
    build_graph_checks,
    build_gx_checks,
    build_volume_checks,
)
from klant.automation import build_automation
from klant.identity.assets import identifier_dictionary
from klant.ingest.assets import ingest_assets
from klant.privacy.assets import privacy_purge
from klant.publish import build_publish_asset
from klant.resources import KlantConfig, dbt_resource
from klant.transform import build_dbt_assets, load_manifest

WAREHOUSE_TAGS = {"klant/warehouse": "duckdb-build"}  # the run queue admits one such run


def build_definitions() -> dg.Definitions:
    manifest = load_manifest()
    checks = (
        build_gx_checks(manifest)
        + build_graph_checks(manifest)
        + build_volume_checks(manifest)
        + build_freshness_checks()
    )
    required = blocking_check_names(checks)
    full = dg.define_asset_job(
        "klant_full",
        selection=dg.AssetSelection.all(),
        description="Load new exports, build every model, audit, and publish if the audit passed.",
        executor_def=dg.in_process_executor,  # the DuckDB build file takes one writer at a time
        tags=WAREHOUSE_TAGS,
    )
    ingest_only = dg.define_asset_job(
        "klant_ingest",
        selection=dg.AssetSelection.groups("ingest"),
        executor_def=dg.in_process_executor,
        tags=WAREHOUSE_TAGS,
    )
    daily, new_files = build_automation(full)
    return dg.Definitions(
        assets=[
            *ingest_assets,
            identifier_dictionary,
            privacy_purge,
            *build_dbt_assets(manifest),
            build_publish_asset(manifest, required),
            *build_activation_assets(manifest),
        ],
        asset_checks=checks,
        jobs=[full, ingest_only],
        schedules=[daily],
        sensors=[new_files],
        resources={"klant": KlantConfig.from_env(), "dbt": dbt_resource()},
    )


defs = build_definitions()
