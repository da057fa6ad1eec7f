"""The dbt project as Dagster assets: every model, seed and test appears with no Python change."""

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from klant.resources import KlantConfig
from klant.settings import DBT_PROJECT_DIR, dbt_vars

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
_WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _WATCHED:
        path = DBT_PROJECT_DIR / name
        paths = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        newest = max([newest, *(p.stat().st_mtime for p in paths if p.is_file())])
    return newest


def prepare_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file."""
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    done = subprocess.run(
        [str(dbt), "parse", "--quiet"], cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{done.stdout}\n{done.stderr}")
    return MANIFEST


def load_manifest() -> dict:
    return json.loads(prepare_manifest().read_text())


class KlantTranslator(DagsterDbtTranslator):
    """Asset keys <schema>/<model> and groups by domain, taken from the model's folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key: raw/...
        if dbt_resource_props["resource_type"] == "seed":
            return dg.AssetKey(["config", dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        if len(fqn) > 2 and fqn[1] in ("marts", "intermediate"):
            return fqn[2]  # marts/identity -> identity, marts/profiles -> profiles
        if len(fqn) > 1:
            return fqn[1]  # staging, segments
        return None


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
TRANSLATOR = KlantTranslator()


def build_dbt_assets(manifest: dict) -> dg.AssetsDefinition:
    """All dbt models, seeds and tests as one multi-asset; `dbt build` runs them in order."""

    @dbt_assets(
        manifest=manifest,
        project=dbt_project,
        dagster_dbt_translator=TRANSLATOR,
        name="klant_dbt",
        pool="klant_build_db",
    )
    def klant_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, klant: KlantConfig):
        klant.preflight()
        os.environ["KLANT_BUILD_DB"] = str(klant.settings.build_db)  # read by profiles.yml
        variables = dbt_vars()
        args = ["build", *(["--vars", json.dumps(variables)] if variables else [])]
        yield from dbt.cli(args, context=context).stream()

    return klant_dbt


def model_asset_keys(manifest: dict) -> dict[str, dg.AssetKey]:
    """Model name -> its asset key, for checks and the publish step."""
    return {
        node["name"]: TRANSLATOR.get_asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
