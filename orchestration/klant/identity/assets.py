"""The identifier dictionary as a Dagster asset, between the raw tables and dbt."""

import dagster as dg

from klant.identity.dictionary import default_phone_region, update_dictionary
from klant.ingest.assets import BUILD_DB_POOL
from klant.resources import KlantConfig

RAW_SOURCES = [["raw", "crm_contacts"], ["raw", "web_events"], ["raw", "shopify_orders"]]


@dg.asset(
    key=["raw", "identifier_dictionary"],
    group_name="ingest",
    deps=RAW_SOURCES,
    description=(
        "Every distinct raw e-mail and phone, normalized once with email-validator and "
        "phonenumbers (E.164), with validity and the reason when invalid; staging joins it."
    ),
    pool=BUILD_DB_POOL,
    kinds={"duckdb", "python"},
    retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
)
def identifier_dictionary(
    context: dg.AssetExecutionContext, klant: KlantConfig
) -> dg.MaterializeResult:
    """Normalize the e-mails and phones that are new in raw; values already known are kept."""
    region = default_phone_region()
    klant.preflight()
    with klant.build_db() as con:
        update = update_dictionary(con, region)
    context.log.info(
        f"{sum(update.added.values())} new identifier values "
        f"({sum(update.added_invalid.values())} invalid), "
        f"{update.row_count} in the dictionary; default phone region {region}"
    )
    return dg.MaterializeResult(
        metadata={
            "new_emails": update.added["email"],
            "new_phones": update.added["phone"],
            "new_invalid_emails": update.added_invalid["email"],
            "new_invalid_phones": update.added_invalid["phone"],
            "invalid_emails": update.invalid["email"],
            "invalid_phones": update.invalid["phone"],
            "default_phone_region": region,
            "rows_loaded": sum(update.added.values()),  # as on the other raw assets
            "dagster/row_count": update.row_count,
        }
    )
