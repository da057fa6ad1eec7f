"""Run Great Expectations 1.x suites against build tables, and turn them into asset checks.

GX's SQL data source cannot validate DuckDB (it reads results after its connection closed), so
klant reads the table from the build file with DuckDB and validates it with GX's pandas engine
in an ephemeral context. Nothing GX generates is written to disk.
"""

import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from expectations import SUITES, segment
from klant import graph_health as health
from klant import volume
from klant.ingest.sources import SOURCES
from klant.publish import PublishedTable, current_build, published_tables, record_check
from klant.resources import KlantConfig
from klant.transform import model_asset_keys, segment_models

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no network calls from GX

import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.execution_engine import pandas_execution_engine  # noqa: E402

# GX fingerprints every in-memory batch under 1 GB by hashing the whole DataFrame, twice per
# validation; klant never reads that fingerprint. At a million people it was about 6 of the 14 s
# GX took on the consent-changes suite's 2.9M rows. A threshold of 0 bytes turns it off.
pandas_execution_engine.HASH_THRESHOLD = 0

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


def validate_frame(frame, build_suite: SuiteBuilder, context=None, suite=None) -> SuiteOutcome:
    """Validate a pandas DataFrame with a suite; each expectation's meta may say severity warn.
    A caller that built the suite already passes it with its context."""
    if suite is None:
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


_COLUMN_KWARGS = ("column", "column_A", "column_B")


def suite_columns(suite: gx.ExpectationSuite, columns: list[str]) -> list[str]:
    """The columns of `columns` a suite reads: named by its expectations or in their row
    conditions (any column whose name appears there). All of them when an expectation names
    columns some other way, so nothing a suite needs is ever left out."""
    wanted: set[str] = set()
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        known = {*_COLUMN_KWARGS, "column_list"}
        if any("column" in key for key in kwargs if key not in known):
            return columns
        wanted.update(kwargs[key] for key in _COLUMN_KWARGS if kwargs.get(key))
        wanted.update(kwargs.get("column_list") or [])
        condition = kwargs.get("row_condition")
        if condition is not None:
            text = json.dumps(condition, default=str) + repr(condition)
            wanted.update(c for c in columns if re.search(rf"(?<!\w){re.escape(c)}(?!\w)", text))
    chosen = [c for c in columns if c in wanted]
    return chosen or columns


# DuckDB column types whose Arrow form converts to what .df() gives (see _as_df_column)
_ARROW_READ_TYPES = {
    "VARCHAR", "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "DATE", "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE",
}  # fmt: skip
# pandas' nullable integers, which .df() gives an integer column that holds a null
_NULLABLE_INTEGERS = {
    pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(),
}  # fmt: skip


def _as_df_column(column: pa.ChunkedArray) -> pd.Series:
    """An Arrow column of one of _ARROW_READ_TYPES as the pandas column .df() makes of it."""
    kind = column.type
    if pa.types.is_date(kind):  # datetime64[us], not datetime.date objects
        return pc.cast(column, pa.timestamp("us")).to_pandas()
    if pa.types.is_decimal(kind):  # DECIMAL and HUGEINT: float64
        return pc.cast(column, pa.float64()).to_pandas()
    if column.null_count and pa.types.is_boolean(kind):
        return column.to_pandas().astype("boolean")
    if column.null_count and pa.types.is_integer(kind):
        return column.to_pandas(types_mapper=_NULLABLE_INTEGERS.get)
    return column.to_pandas()


def read_frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """A query's rows as the pandas DataFrame DuckDB's .df() gives (the same dtypes and values),
    converted through Arrow: .df() turns text into pandas strings value by value (the consent
    changes' 2.9M rows at a million people: 4.4 to 6.4 s, through Arrow 1.1 to 2.4 s). A result
    with a column of another type (UUID, INTERVAL, JSON, lists, ...), a name twice or no row is
    read with .df()."""
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    kinds = [str(d[1]).split("(")[0] for d in result.description]
    if len(set(names)) < len(names) or not set(kinds) <= _ARROW_READ_TYPES:
        return result.df()
    table = result.to_arrow_table()
    if not table.num_rows:  # .df() types an empty text column object, not string
        return con.execute(sql).df()
    # one array per column, as .df() gives: GX's checks on a column of DuckDB's many batches
    # ran 1.5 times as long (the consent changes' suite: 17.0 s against 11.0)
    table = table.combine_chunks()
    columns = {n: _as_df_column(c).rename(n) for n, c in zip(names, table.columns, strict=True)}
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def validate_table(
    con: duckdb.DuckDBPyConnection, relation: str, build_suite: SuiteBuilder
) -> SuiteOutcome:
    """Read the columns a suite checks from a build table with DuckDB and validate them with
    GX (a wide table's other columns would only cost memory and time in pandas)."""
    context = _context()
    suite = build_suite()
    columns = [row[0] for row in con.execute(f"select * from {relation} limit 0").description]
    chosen = ", ".join(f'"{c}"' for c in suite_columns(suite, columns))
    frame = read_frame(con, f"select {chosen} from {relation}")
    return validate_frame(frame, build_suite, context, suite)


def build_gx_checks(manifest: dict) -> list[dg.AssetChecksDefinition]:
    """A blocking asset check per expectation suite whose table the dbt project builds.

    Every segment gets the generic segment suite (expectations/segment.py) unless it has its own,
    so a new segment file is audited with no other change.
    """
    keys = model_asset_keys(manifest)
    suites = dict(SUITES)
    for node in segment_models(manifest):
        suites.setdefault(node["name"], segment.suite_for(node["name"]))
    checks = []
    for table, build_suite in sorted(suites.items()):
        if table not in keys:
            raise ValueError(f"expectation suite {table!r} has no dbt model of that name")
        builder = getattr(build_suite, "func", build_suite)  # a segment's suite is a partial
        module = builder.__module__.replace(".", "/") + ".py"
        checks.append(_gx_check(table, keys[table], build_suite, module))
    return checks


def gx_check_name(table: str) -> str:
    return f"gx_{table}"


def _gx_check(table: str, key: dg.AssetKey, build_suite: SuiteBuilder, module: str):
    schema, name = key.path[-2], key.path[-1]

    @dg.asset_check(
        asset=key,
        name=gx_check_name(table),
        blocking=True,
        description=f"Great Expectations suite {module} on the build.",
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


QUALITY_TARGETS = {"precision": 0.995, "recall": 0.98}


def build_graph_checks(manifest: dict) -> list[dg.AssetChecksDefinition]:
    """Identity graph health (blocking) and identity quality against a ground truth (reported)."""
    keys = model_asset_keys(manifest)
    identifiers, profiles = keys["dim_person_identifiers"], keys["dim_profiles"]

    def blocking(name: str, key: dg.AssetKey, description: str, evaluate):
        @dg.asset_check(asset=key, name=name, blocking=True, description=description)
        def _check(
            context: dg.AssetCheckExecutionContext, klant: KlantConfig
        ) -> dg.AssetCheckResult:
            with klant.build_db() as con:
                outcome = evaluate(con, klant)
                record_check(
                    con, context.run.run_id, name, key.path[-1], outcome.passed, ERROR,
                    {"description": outcome.description, **outcome.metadata},
                )  # fmt: skip
            return dg.AssetCheckResult(
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                description=outcome.description,
                metadata={k: dg.MetadataValue.json(v) if isinstance(v, (list, dict)) else v
                          for k, v in outcome.metadata.items()},
            )  # fmt: skip

        return _check

    def count_change(con, klant):
        previous = health.published_person_count(con, current_build(klant.settings))
        return health.person_count_change(con, previous, health.max_person_count_change())

    @dg.asset_check(
        asset=identifiers,
        name="identity_quality",
        description="Pairwise precision and recall of the person grouping against a ground truth.",
    )
    def quality(context: dg.AssetCheckExecutionContext, klant: KlantConfig) -> dg.AssetCheckResult:
        truth = ground_truth_dir(klant)
        if not (truth / "records.csv").exists():
            return dg.AssetCheckResult(
                passed=True, description=f"no ground truth in {truth}: nothing to measure"
            )
        with klant.build_db() as con:
            figures = health.identity_quality(con, truth)
        report = klant.settings.warehouse_dir / "reports" / "identity_quality.json"
        health.write_quality_report(figures, report)
        ok = all(getattr(figures, k) >= v for k, v in QUALITY_TARGETS.items())
        context.log.info(f"identity quality: {figures.as_dict()} (report {report})")
        return dg.AssetCheckResult(
            passed=ok,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"precision {figures.precision:.4f}, recall {figures.recall:.4f} "
                f"(targets {QUALITY_TARGETS['precision']}, {QUALITY_TARGETS['recall']})"
            ),
            metadata={**figures.as_dict(), "report": dg.MetadataValue.path(str(report))},
        )

    return [
        blocking(
            "identity_largest_group",
            identifiers,
            "No person holds more identifiers than KLANT_MAX_PERSON_GROUP_SIZE.",
            lambda con, klant: health.largest_group(con, health.max_group_size()),
        ),
        blocking(
            "identity_identifier_in_one_person",
            identifiers,
            "Every identifier belongs to exactly one person.",
            lambda con, klant: health.identifiers_in_two_persons(con),
        ),
        blocking(
            "identity_person_count_change",
            profiles,
            "The person count moves less than KLANT_MAX_PERSON_COUNT_CHANGE from the live build.",
            count_change,
        ),
        quality,
    ]


def _check_result(outcome: volume.Outcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR
        if outcome.severity == ERROR
        else dg.AssetCheckSeverity.WARN,
        description=outcome.description,
        metadata={
            k: dg.MetadataValue.json(v) if isinstance(v, (list, dict)) else v
            for k, v in outcome.metadata.items()
        },
    )


WARN_ONLY_VOLUME = frozenset({"fct_audience_memberships"})


def volume_check_name(model: str) -> str:
    return f"volume_{model}"


def build_volume_checks(manifest: dict) -> list[dg.AssetChecksDefinition]:
    """Per published table: its row count against its recent publications (klant.volume).

    A large fall blocks publication, except for segments and their history, which move with
    time and only warn.
    """
    keys = model_asset_keys(manifest)
    return [_volume_check(table, keys[table.model]) for table in published_tables(manifest)]


def _volume_check(table: PublishedTable, key: dg.AssetKey) -> dg.AssetChecksDefinition:
    # segments and third-party memberships move with time (expiry can empty them): they only warn
    may_block = table.schema != "segments" and table.model not in WARN_ONLY_VOLUME
    name = volume_check_name(table.model)

    @dg.asset_check(
        asset=key,
        name=name,
        blocking=True,
        description=(
            "Row count against the median of the last published builds: "
            + ("a fall over KLANT_VOLUME_MAX_DROP blocks, " if may_block else "")
            + "a fall over KLANT_VOLUME_WARN_DROP warns."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, klant: KlantConfig) -> dg.AssetCheckResult:
        relation = f'"{table.build_schema}"."{table.build_name}"'
        with klant.build_db() as con:
            outcome = volume.volume(
                con, relation, table.qualified, may_block,
                build_table=f"{table.build_schema}.{table.build_name}",
            )  # fmt: skip
            details = {"description": outcome.description, **outcome.metadata}
            record_check(
                con, context.run.run_id, name, table.model, outcome.passed, outcome.severity,
                details,
            )  # fmt: skip
        if not outcome.passed:
            context.log.warning(f"{table.model}: {outcome.description}")
        return _check_result(outcome)

    return _check


def build_freshness_checks() -> list[dg.AssetChecksDefinition]:
    """Per landing source: warn when its newest load is older than KLANT_FRESHNESS_HOURS."""
    return [_freshness_check(spec.name, spec.table) for spec in SOURCES]


def _freshness_check(source: str, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", table]),
        name=f"freshness_{source}",
        description=f"The newest {source} export was loaded within KLANT_FRESHNESS_HOURS.",
    )
    def _check(klant: KlantConfig) -> dg.AssetCheckResult:
        with klant.build_db() as con:
            return _check_result(volume.freshness(con, table))

    return _check


def ground_truth_dir(klant: KlantConfig) -> Path:
    """Where a ground truth may lie: KLANT_GROUND_TRUTH_DIR, else <landing>/ground_truth."""
    default = klant.settings.landing_dir / "ground_truth"
    return Path(os.environ.get("KLANT_GROUND_TRUTH_DIR", default))


def blocking_check_names(checks: list[dg.AssetChecksDefinition]) -> list[str]:
    """The checks whose failure must keep a build from being published."""
    return [spec.name for check in checks for spec in check.check_specs if spec.blocking]
