"""The Dagster definitions: lineage from raw to publish, checks, schedule and sensor."""

import json

import dagster as dg
import pytest

from klant.definitions import defs
from klant.resources import KlantConfig
from klant.settings import Settings


def ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen, todo = set(), [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


@pytest.fixture(scope="module")
def graph():
    return defs.resolve_asset_graph()


def test_lineage_runs_from_raw_to_publish(graph):
    key = dg.AssetKey
    publish_upstream = ancestors(graph, key(["published"]))
    chain = [
        key(["raw", "crm_contacts"]),
        key(["raw", "web_events"]),
        key(["raw", "shopify_orders"]),
        key(["staging", "stg_crm__contacts"]),
        key(["staging", "stg_web__events"]),
        key(["staging", "stg_commerce__orders"]),
        key(["marts", "dim_person_identifiers"]),
        key(["marts", "dim_profiles"]),
        key(["segments", "repeat_customers"]),
    ]
    assert set(chain) <= publish_upstream
    assert key(["raw", "crm_contacts"]) in ancestors(graph, key(["marts", "dim_profiles"]))
    assert key(["marts", "dim_profiles"]) in ancestors(graph, key(["segments", "repeat_customers"]))


def test_assets_are_grouped_by_domain(graph):
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {
        "ingest",
        "staging",
        "identity",
        "profiles",
        "segments",
        "publish",
        "activation",
    } <= groups
    assert graph.get(dg.AssetKey(["marts", "dim_visitors"])).group_name == "profiles"
    assert graph.get(dg.AssetKey(["segments", "segment_memberships"])).group_name == "segments"


def test_segments_flow_into_their_history_and_exports(graph):
    """The rollup declares every segment upstream, and each segment with destinations exports."""
    key = dg.AssetKey
    history = ancestors(graph, key(["segments", "segment_members"]))
    segments = [
        k
        for k in graph.get_all_asset_keys()
        if k.path[0] == "segments" and not k.path[1].startswith("segment_")
    ]
    assert len(segments) >= 6
    assert set(segments) <= history
    for segment in segments:
        export = key(["activation", segment.path[1]])
        assert key(["published"]) in ancestors(graph, export)
        assert segment in ancestors(graph, export)


def test_gx_suites_are_blocking_checks(graph):
    checks = {key.name: graph.get_check_spec(key) for key in graph.asset_check_keys}
    assert checks["gx_dim_profiles"].asset_key == dg.AssetKey(["marts", "dim_profiles"])
    assert checks["gx_dim_profiles"].blocking
    assert checks["gx_dim_person_identifiers"].blocking


def test_jobs_schedule_and_sensor(graph):
    assert defs.resolve_job_def("klant_full")
    assert defs.resolve_job_def("klant_ingest")
    schedule = defs.resolve_schedule_def("klant_daily")
    assert schedule.cron_schedule == "0 3 * * *"
    assert defs.resolve_sensor_def("klant_new_landing_files")


def test_the_sensor_starts_a_run_only_for_new_or_changed_files(settings: Settings):
    sensor = defs.resolve_sensor_def("klant_new_landing_files")
    resources = {"klant": KlantConfig.from_env()}

    def evaluate(cursor):
        with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
            return sensor(context), context.cursor

    result, cursor = evaluate(None)
    assert isinstance(result, dg.SkipReason)  # an empty landing folder

    (settings.landing_dir / "crm").mkdir()
    (settings.landing_dir / "crm" / "contacts.csv").write_text("Record ID\n1\n")
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.RunRequest)

    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.SkipReason)  # nothing new since

    (settings.landing_dir / "crm" / "more.csv").write_text("Record ID\n2\n")
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.RunRequest)


def test_the_instance_config_is_valid_and_limits_the_build_pool(tmp_path):
    import shutil

    from klant.settings import REPO_ROOT

    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "klant/warehouse", "value": "duckdb-build", "limit": 1} in limits


def test_every_published_table_has_a_suite_and_a_volume_check(graph):
    from klant.publish import published_tables
    from klant.transform import load_manifest

    checks = {key.name for key in graph.asset_check_keys}
    tables = [t.model for t in published_tables(load_manifest())]
    assert len(tables) >= 15
    for model in tables:
        assert f"gx_{model}" in checks, model
        assert f"volume_{model}" in checks, model
        spec = next(
            graph.get_check_spec(k) for k in graph.asset_check_keys if k.name == f"gx_{model}"
        )
        assert spec.blocking, model


def test_the_dbt_parse_follows_dbt_target_path(settings: Settings, tmp_path, monkeypatch):
    """Side-by-side runs (the test workers, the benchmark) each keep their own parse: with
    DBT_TARGET_PATH set, the project is parsed there, where dagster-dbt looks for it, and the
    project's own target/ is left alone."""
    from klant.settings import DBT_PROJECT_DIR
    from klant.transform import dbt_target_dir, prepare_manifest

    own = DBT_PROJECT_DIR / "target" / "manifest.json"
    own_before = own.stat().st_mtime_ns if own.exists() else None
    folder = tmp_path / "dbt-target"
    monkeypatch.setenv("DBT_TARGET_PATH", str(folder))
    manifest = prepare_manifest()
    assert manifest == folder / "manifest.json"
    assert "model.klant.dim_profiles" in json.loads(manifest.read_text())["nodes"]
    assert (folder / "partial_parse.msgpack").exists()  # what each dbt command starts from
    parsed = manifest.stat().st_mtime_ns
    assert prepare_manifest() == manifest and manifest.stat().st_mtime_ns == parsed  # kept
    assert (own.stat().st_mtime_ns if own.exists() else None) == own_before

    monkeypatch.setenv("DBT_TARGET_PATH", "target/elsewhere")  # relative: to the project
    assert dbt_target_dir() == DBT_PROJECT_DIR / "target" / "elsewhere"
    monkeypatch.delenv("DBT_TARGET_PATH")
    assert dbt_target_dir() == DBT_PROJECT_DIR / "target"
