"""Paths and switches that klant reads from the environment, with working defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# KLANT_DBT_PROJECT_DIR points at a copy of the dbt project (a test adding a segment uses it)
DBT_PROJECT_DIR = Path(os.environ.get("KLANT_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project")).resolve()
DEFAULT_LANDING_DIR = REPO_ROOT / "seeds"
DEFAULT_WAREHOUSE_DIR = REPO_ROOT / "warehouse"
# The bundled sample exports end on this day: the demo measures "days since" from here.
SAMPLE_AS_OF = "2026-11-29 00:00:00"


def utc_now() -> datetime:
    """The clock in UTC without a time zone, as klant stores every time."""
    return datetime.now(UTC).replace(tzinfo=None)


def env_float(name: str, default: float) -> float:
    """A number from the environment, the default when unset; anything else is a clear error."""
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError as error:
        raise ValueError(f"{name} must be a number, got {value!r}") from error


def visitor_retention_days() -> int:
    """Days an anonymous visitor is kept after its last event (KLANT_VISITOR_RETENTION_DAYS)."""
    days = env_float("KLANT_VISITOR_RETENTION_DAYS", 90)
    if days < 1 or days != int(days):
        raise ValueError(f"KLANT_VISITOR_RETENTION_DAYS must be a whole number of days, got {days}")
    return int(days)


DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"
# dbt's models get more: at a million people the largest aggregates and windows spill 2 to 8 GB
# under 4GB (dbt's nodes 391 -> 360 s with 6GB; the run's peak 6.6 -> 7.0 GB). Klant's own
# connections stay at 4GB: ingest holds a file's lines in Arrow beside DuckDB (6.6 GB at 4GB).
DEFAULT_DBT_MEMORY_LIMIT = "6GB"  # the same default as dbt_project/profiles.yml


def duckdb_config() -> dict[str, str]:
    """DuckDB settings for every klant connection that writes the build file: past
    KLANT_DUCKDB_MEMORY_LIMIT DuckDB spills to disk instead of growing."""
    limit = os.environ.get("KLANT_DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_DUCKDB_MEMORY_LIMIT
    return {"memory_limit": limit}


def dbt_memory_limit() -> str:
    """DuckDB's memory limit for dbt's models, as dbt_project/profiles.yml reads it:
    KLANT_DBT_MEMORY_LIMIT, else DEFAULT_DBT_MEMORY_LIMIT (KLANT_DUCKDB_MEMORY_LIMIT is klant's
    own connections' limit only)."""
    return os.environ.get("KLANT_DBT_MEMORY_LIMIT", DEFAULT_DBT_MEMORY_LIMIT)


def dbt_vars() -> dict[str, str | int]:
    """dbt vars taken from the environment: KLANT_AS_OF pins the build's "now" (UTC), and the
    visitor retention the privacy step applies is the one the models apply."""
    variables: dict[str, str | int] = {"klant__visitor_retention_days": visitor_retention_days()}
    as_of = os.environ.get("KLANT_AS_OF", "").strip()
    if as_of:
        variables["klant__as_of"] = as_of
    return variables


@dataclass(frozen=True)
class Settings:
    """Where klant reads exports and writes its warehouse; one place for every path."""

    landing_dir: Path
    warehouse_dir: Path

    @property
    def build_db(self) -> Path:
        """The DuckDB file the pipeline writes (raw, staging, identity, marts)."""
        return self.warehouse_dir / "build.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.warehouse_dir / "published"

    @property
    def published_db(self) -> Path:
        """The path readers open: a symlink to the last build that passed its audit."""
        return self.published_dir / "klant.duckdb"

    @property
    def exports_dir(self) -> Path:
        """Where activation writes exports: KLANT_EXPORTS_DIR, else <warehouse>/exports."""
        override = os.environ.get("KLANT_EXPORTS_DIR", "").strip()
        return Path(override).resolve() if override else self.warehouse_dir / "exports"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            landing_dir=Path(os.environ.get("KLANT_LANDING_DIR", DEFAULT_LANDING_DIR)).resolve(),
            warehouse_dir=Path(
                os.environ.get("KLANT_WAREHOUSE_DIR", DEFAULT_WAREHOUSE_DIR)
            ).resolve(),
        )
