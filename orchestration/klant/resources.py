"""Dagster resources: klant's paths, configurable from the environment."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from klant.preflight import NotEnoughDisk, ensure_free_disk
from klant.runlock import RunLockTimeout, acquire
from klant.settings import DEFAULT_LANDING_DIR, DEFAULT_WAREHOUSE_DIR, Settings, duckdb_config


class KlantConfig(dg.ConfigurableResource):
    """Landing folder and warehouse folder (KLANT_LANDING_DIR, KLANT_WAREHOUSE_DIR)."""

    landing_dir: str = str(DEFAULT_LANDING_DIR)
    warehouse_dir: str = str(DEFAULT_WAREHOUSE_DIR)
    _run_lock: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Take the warehouse's run lock for the whole run (klant.runlock): one run at a time.

        Outside a run (a sensor or schedule evaluation reading the landing folder) nothing is
        written, so no lock is taken.
        """
        if context.run is None:
            return
        try:
            self._run_lock = acquire(self.settings, context.run.run_id, logger=context.log)
        except RunLockTimeout as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._run_lock is not None:
            self._run_lock.close()  # closing the file releases the lock
            self._run_lock = None

    @classmethod
    def from_env(cls) -> KlantConfig:
        settings = Settings.from_env()
        return cls(landing_dir=str(settings.landing_dir), warehouse_dir=str(settings.warehouse_dir))

    @property
    def settings(self) -> Settings:
        return Settings(
            landing_dir=Path(self.landing_dir).resolve(),
            warehouse_dir=Path(self.warehouse_dir).resolve(),
        )

    def preflight(self) -> None:
        """Refuse to write when the disk is too full (a clear failure, never retried)."""
        try:
            ensure_free_disk(self.settings)
        except NotEnoughDisk as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error

    @contextlib.contextmanager
    def build_db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection to the build file, closed on exit so dbt can open it next."""
        path = self.settings.build_db
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), config=duckdb_config())
        try:
            yield con
        finally:
            con.close()


def dbt_resource() -> dg.ConfigurableResource:
    from dagster_dbt import DbtCliResource

    from klant.transform import dbt_project

    return DbtCliResource(
        dbt_executable=str(Path(sys.executable).with_name("dbt")),  # the venv's, PATH or not
        project_dir=dbt_project,
        profiles_dir=str(dbt_project.profiles_dir),
        target=os.environ.get("KLANT_DBT_TARGET", "duckdb"),
    )
