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
from klant.settings import DBT_PROJECT_DIR, Settings, dbt_vars

PARSE_ARGUMENTS = "klant_parse_arguments.json"  # beside the manifest: what it was parsed with
_WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _WATCHED:
        path = DBT_PROJECT_DIR / name
        paths = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        newest = max([newest, *(p.stat().st_mtime for p in paths if p.is_file())])
    return newest


def parse_arguments() -> list[str]:
    """The target and vars every pipeline dbt command runs with. dbt keeps a parse only for the
    same vars and target, so the parse below uses them too and each run's dbt skips a full
    parse (partial parsing: several seconds per dbt command)."""
    target = os.environ.get("KLANT_DBT_TARGET", "duckdb")
    return ["--target", target, "--vars", json.dumps(dbt_vars(), sort_keys=True)]


def dbt_target_dir() -> Path:
    """Where the parse lives and dbt commands write: DBT_TARGET_PATH when set (dagster-dbt then
    puts each command's artifacts in a folder under it and hands it the parse from there, so
    runs side by side, such as test workers, each keep their own), else the project's target/."""
    return DBT_PROJECT_DIR / (os.environ.get("DBT_TARGET_PATH") or "target")


def prepare_manifest() -> Path:
    """Parse the dbt project when its manifest is missing, older than any project file, or
    parsed with other vars or another target than the runs will use."""
    build_db = str(Settings.from_env().build_db)  # the profile is part of dbt's check too
    arguments = json.dumps([*parse_arguments(), build_db])
    target = dbt_target_dir()
    manifest, parsed_with = target / "manifest.json", target / PARSE_ARGUMENTS
    if (
        manifest.exists()
        and manifest.stat().st_mtime >= _newest_source_mtime()
        and parsed_with.exists()
        and parsed_with.read_text() == arguments
    ):
        return manifest
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    env["KLANT_BUILD_DB"] = build_db  # the build file a run from this environment uses
    done = subprocess.run(
        [str(dbt), "parse", "--quiet", *parse_arguments()]
        + ["--target-path", str(target), "--log-path", str(target / "logs")],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{done.stdout}\n{done.stderr}")
    parsed_with.write_text(arguments)
    return manifest


def load_manifest() -> dict:
    return json.loads(prepare_manifest().read_text())


PRIVACY_PURGE_KEY = dg.AssetKey(["privacy", "purge"])  # klant.privacy.assets
SEGMENT_TAG = "segment"  # every model in models/segments/
ROLLUP_TAG = "segment_rollup"  # the models that read every segment (models/memberships/)
_PROFILE_AREAS = {"web": "profiles", "orders": "profiles", "visitors": "profiles"}


def segment_models(manifest: Mapping[str, Any]) -> list[dict]:
    """The segment models (one per file in models/segments/), by name."""
    nodes = manifest["nodes"].values()
    found = [n for n in nodes if n["resource_type"] == "model" and SEGMENT_TAG in n["tags"]]
    return sorted(found, key=lambda node: node["name"])


class KlantTranslator(DagsterDbtTranslator):
    """Asset keys <schema>/<model> and groups by domain, taken from the model's folder.

    The segment rollup models find the segments in the dbt graph when they run, so dbt knows no
    dependency on them; the translator declares one on every segment, for lineage and order.
    """

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id)
        if node is not None and node["resource_type"] == "model" and node["fqn"][1] == "staging":
            # the privacy step deletes erased and expired rows from raw before staging reads it
            spec = spec.merge_attributes(deps=[PRIVACY_PURGE_KEY])
        if node is not None and ROLLUP_TAG in node.get("tags", []):
            segments = [self.get_asset_key(segment) for segment in segment_models(manifest)]
            spec = spec.merge_attributes(deps=segments)
        return spec

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
        if ROLLUP_TAG in dbt_resource_props.get("tags", []):
            return "segments"
        if len(fqn) > 2 and fqn[1] in ("marts", "intermediate"):
            # marts/identity -> identity; the traits' building blocks sit with the profiles
            return _PROFILE_AREAS.get(fqn[2], fqn[2])
        if len(fqn) > 1:
            return fqn[1]  # staging, segments
        return None


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
TRANSLATOR = KlantTranslator()


def dbt_build_args() -> list[str]:
    """`dbt build` as a pipeline run calls it.

    dbt's unit tests check the models' logic on fixed rows, not the data: like dbt's own advice
    for production, runs leave them out (CI runs them, tests/test_pipeline.py), unless
    KLANT_DBT_UNIT_TESTS=1 asks for them.
    """
    args = ["build"]
    if os.environ.get("KLANT_DBT_UNIT_TESTS") != "1":
        args += ["--exclude-resource-type", "unit_test"]
    variables = dbt_vars()
    return args + (["--vars", json.dumps(variables)] if variables else [])


def _dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, klant: KlantConfig):
    klant.preflight()
    os.environ["KLANT_BUILD_DB"] = str(klant.settings.build_db)  # read by profiles.yml
    yield from dbt.cli(dbt_build_args(), context=context).stream()


def build_dbt_assets(manifest: dict) -> list[dg.AssetsDefinition]:
    """The dbt project as two multi-assets, each one `dbt build` of its models, seeds and tests.

    The first builds everything up to the segments; the second, the segment rollup (members,
    membership history, sizes), which reads every segment and so must run after all of them.
    """

    @dbt_assets(
        manifest=manifest,
        project=dbt_project,
        dagster_dbt_translator=TRANSLATOR,
        name="klant_dbt",
        exclude=f"tag:{ROLLUP_TAG}",
        pool="klant_build_db",
    )
    def klant_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, klant: KlantConfig):
        yield from _dbt_build(context, dbt, klant)

    @dbt_assets(
        manifest=manifest,
        project=dbt_project,
        dagster_dbt_translator=TRANSLATOR,
        name="klant_dbt_segment_rollup",
        select=f"tag:{ROLLUP_TAG}",
        pool="klant_build_db",
    )
    def klant_dbt_segment_rollup(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, klant: KlantConfig
    ):
        yield from _dbt_build(context, dbt, klant)

    return [klant_dbt, klant_dbt_segment_rollup]


def model_asset_keys(manifest: dict) -> dict[str, dg.AssetKey]:
    """Model name -> its asset key, for checks and the publish step."""
    return {
        node["name"]: TRANSLATOR.get_asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
