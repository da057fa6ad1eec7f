"""Volume and freshness: a build's tables against recent publications, raw data against the clock.

Volume: a published table whose row count falls by more than KLANT_VOLUME_MAX_DROP (default
0.5) against the median of its last three published builds blocks publication (a lost export,
a broken join); a fall of more than KLANT_VOLUME_WARN_DROP (default 0.1) only warns. Segments
move with time (a week without carts empties cart_abandoners), so for them a fall only warns,
as it does for tables too small to judge (a baseline under KLANT_VOLUME_MIN_ROWS, default 50).

Rows the privacy step removed on purpose since a publication (an erasure, visitors past
retention: audit.expected_removals) are taken off that publication's count before the
comparison, so retention does not look like a broken build.

Freshness: a source whose newest load is older than KLANT_FRESHNESS_HOURS (default 36) warns:
the export that should have landed did not.
"""

import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from klant.publish import ensure_audit_schema
from klant.settings import env_float, utc_now
from klant.warehouse import relation_exists

ERROR, WARN = "ERROR", "WARN"
BASELINE_BUILDS = 3


def max_drop() -> float:
    return env_float("KLANT_VOLUME_MAX_DROP", 0.5)


def warn_drop() -> float:
    return env_float("KLANT_VOLUME_WARN_DROP", 0.1)


def min_rows() -> float:
    return env_float("KLANT_VOLUME_MIN_ROWS", 50)


def freshness_hours() -> float:
    return env_float("KLANT_FRESHNESS_HOURS", 36)


@dataclass
class Outcome:
    """A check's verdict: passed or not, how bad (ERROR blocks), and its figures."""

    passed: bool
    severity: str
    description: str
    metadata: dict = field(default_factory=dict)


def _removed_on_purpose_since(con: duckdb.DuckDBPyConnection, table: str, since: datetime) -> int:
    """Rows of a build table (schema.table) the privacy step removed on purpose after `since`."""
    if not relation_exists(con, "audit.expected_removals"):
        return 0
    return con.execute(
        "select coalesce(sum(rows), 0) from audit.expected_removals "
        "where table_name = ? and removed_at > ?",
        [table, since],
    ).fetchone()[0]


def recent_counts(
    con: duckdb.DuckDBPyConnection,
    qualified: str,
    builds: int = BASELINE_BUILDS,
    build_table: str | None = None,
) -> list[int]:
    """The table's row counts in the last published builds, newest first (from the publish log),
    less the rows the privacy step removed on purpose since each (erasures, expired visitors)."""
    ensure_audit_schema(con)
    rows = con.execute(
        "select row_counts, published_at from audit.publish_log where action = 'publish' "
        "and row_counts is not null order by published_at desc limit ?",
        [builds],
    ).fetchall()
    counts = []
    for text, published_at in rows:
        count = json.loads(text).get(qualified)
        if count is None:
            continue
        if build_table is not None:
            count = max(count - _removed_on_purpose_since(con, build_table, published_at), 0)
        counts.append(count)
    return counts


def volume(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    qualified: str,
    may_block: bool,
    build_table: str | None = None,
) -> Outcome:
    """Compare the build table's rows with the median of its recent published counts."""
    rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
    history = recent_counts(con, qualified, build_table=build_table)
    figures = {"rows": rows, "recent_published_rows": history}
    if not history:
        return Outcome(True, WARN, f"{rows} rows; nothing published yet to compare with", figures)
    baseline = statistics.median(history)
    drop = (baseline - rows) / baseline if baseline else 0.0
    figures |= {"baseline_rows": baseline, "drop": round(drop, 4)}
    blocks = may_block and baseline >= min_rows()
    limits = f"(blocks above {max_drop():.0%}, warns above {warn_drop():.0%})"
    if drop > max_drop() and blocks:
        text = f"{rows} rows, {drop:.1%} fewer than the recent published {baseline:g} {limits}"
        return Outcome(False, ERROR, text, figures)
    if drop > warn_drop():
        text = f"{rows} rows, {drop:.1%} fewer than the recent published {baseline:g} {limits}"
        return Outcome(False, WARN, text, figures)
    return Outcome(True, WARN, f"{rows} rows against {baseline:g} recently published", figures)


def freshness(con: duckdb.DuckDBPyConnection, table: str, now: datetime | None = None) -> Outcome:
    """Warn when the newest load into a raw table is older than KLANT_FRESHNESS_HOURS."""
    newest = con.execute(f"select max(_loaded_at) from raw.{table}").fetchone()[0]
    now = now or utc_now()
    bound = freshness_hours()
    if newest is None:
        return Outcome(False, WARN, f"raw.{table} holds no rows yet", {"bound_hours": bound})
    age = (now - newest).total_seconds() / 3600
    figures = {"newest_load": str(newest), "age_hours": round(age, 2), "bound_hours": bound}
    if age > bound:
        text = f"the newest load into raw.{table} is {age:.1f} h old (bound {bound:g} h)"
        return Outcome(False, WARN, text, figures)
    return Outcome(True, WARN, f"newest load {age:.1f} h ago", figures)
