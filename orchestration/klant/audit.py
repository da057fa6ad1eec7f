"""Run Great Expectations 1.x suites against build tables, and turn them into asset checks.

GX's SQL data source cannot validate DuckDB (it reads results after its connection closed), so
klant reads the table from the build file with DuckDB and validates it with GX's pandas engine
in an ephemeral context. Nothing GX generates is written to disk.
"""

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import duckdb

from klant.resources import KlantConfig

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no network calls from GX

import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

log = logging.getLogger(__name__)

ERROR, WARN = "ERROR", "WARN"


@dataclass
class SuiteOutcome:
    """What one suite found: blocking and warning failures, with GX's own figures."""

    suite: str
    rows: int
    evaluated: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[dict[str, Any]]:
        return [f for f in self.failures if f["severity"] == ERROR]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def severity(self) -> str:
        return ERROR if self.blocking_failures else WARN


def _context():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


SuiteBuilder = Callable[[], gx.ExpectationSuite]


def validate_frame(frame, build_suite: SuiteBuilder) -> SuiteOutcome:
    """Validate a pandas DataFrame with a suite; each expectation's meta may say severity warn."""
    context = _context()  # GX needs a live context before a suite can be built
    suite = build_suite()
    source = context.data_sources.add_pandas("klant_build")
    asset = source.add_dataframe_asset(suite.name)
    batch = asset.add_batch_definition_whole_dataframe("build").get_batch(
        batch_parameters={"dataframe": frame}
    )
    result = batch.validate(suite)
    outcome = SuiteOutcome(suite=suite.name, rows=len(frame))
    for item in result.results:
        outcome.evaluated += 1
        if item.success:
            continue
        config = item.expectation_config
        details = item.result or {}
        outcome.failures.append(
            {
                "expectation": config.type,
                "kwargs": {k: v for k, v in config.kwargs.items() if k != "batch_id"},
                "severity": WARN if (config.meta or {}).get("severity") == "warn" else ERROR,
                "unexpected_count": details.get("unexpected_count"),
                "observed_value": details.get("observed_value"),
                "sample": [str(v) for v in (details.get("partial_unexpected_list") or [])[:5]],
            }
        )
    return outcome


def validate_table(
    con: duckdb.DuckDBPyConnection, relation: str, build_suite: SuiteBuilder
) -> SuiteOutcome:
    """Read a build table with DuckDB and validate it with GX."""
    frame = con.execute(f"select * from {relation}").df()
    return validate_frame(frame, build_suite)


def build_gx_checks(manifest: dict) -> list[dg.AssetChecksDefinition]:
    """A blocking asset check per expectation suite whose table the dbt project builds."""
    from expectations import SUITES
    from klant.publish import record_check
    from klant.transform import model_asset_keys

    keys = model_asset_keys(manifest)
    checks = []
    for table, build_suite in sorted(SUITES.items()):
        if table not in keys:
            raise ValueError(f"expectation suite {table!r} has no dbt model of that name")
        checks.append(_gx_check(table, keys[table], build_suite, record_check))
    return checks


def gx_check_name(table: str) -> str:
    return f"gx_{table}"


def _gx_check(table: str, key: dg.AssetKey, build_suite: SuiteBuilder, record_check):
    schema, name = key.path[-2], key.path[-1]

    @dg.asset_check(
        asset=key,
        name=gx_check_name(table),
        blocking=True,
        description=f"Great Expectations suite expectations/{table}.py on the build.",
    )
    def _check(context: dg.AssetCheckExecutionContext, klant: KlantConfig) -> dg.AssetCheckResult:
        with klant.build_db() as con:
            outcome = validate_table(con, f'"{schema}"."{name}"', build_suite)
            record_check(
                con,
                context.run.run_id,
                gx_check_name(table),
                table,
                outcome.passed,
                outcome.severity,
                {"rows": outcome.rows, "failures": outcome.failures},
            )
        for failure in outcome.failures:
            context.log.warning(f"{table}: {failure}")
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR
            if outcome.severity == ERROR
            else dg.AssetCheckSeverity.WARN,
            metadata={
                "rows": outcome.rows,
                "expectations_evaluated": outcome.evaluated,
                "expectations_failed": len(outcome.failures),
                "blocking_failures": len(outcome.blocking_failures),
                "failures": dg.MetadataValue.json(outcome.failures),
            },
        )

    return _check
