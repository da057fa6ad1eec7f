"""The benchmark harness's pure parts: sizes, stage mapping, the baseline's grouping and checks.

No pipeline run and no timing assertions: figures belong in bench/results, not in tests.
"""

import json
from pathlib import Path

import duckdb
import pytest

from bench.baselines import compare_partitions, group_edges
from bench.memory import peak_in
from bench.stages import node_stage, parse_size, size_label, split_dbt, step_stage, union_seconds


@pytest.mark.parametrize(
    ("text", "people"),
    [("10k", 10_000), ("100K", 100_000), ("1m", 1_000_000), ("2500", 2_500), ("1.5m", 1_500_000)],
)
def test_parse_size(text: str, people: int) -> None:
    assert parse_size(text) == people


@pytest.mark.parametrize("text", ["", "k", "10g", "-5k", "0", "1.0005k"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_size_label() -> None:
    assert [size_label(n) for n in (10_000, 300_000, 1_000_000, 2_500)] == [
        "10k",
        "300k",
        "1m",
        "2500",
    ]


def _node(kind: str, fqn: list[str], attached: str | None = None, parents=()) -> dict:
    return {
        "resource_type": kind,
        "fqn": fqn,
        "attached_node": attached,
        "depends_on": {"nodes": list(parents)},
    }


MANIFEST = {
    "nodes": {
        "model.k.stg_a": _node("model", ["k", "staging", "web", "stg_a"]),
        "model.k.int_ids": _node("model", ["k", "intermediate", "identity", "int_ids"]),
        "model.k.dim_ids": _node("model", ["k", "marts", "identity", "dim_ids"]),
        "model.k.int_web": _node("model", ["k", "intermediate", "web", "int_web"]),
        "model.k.int_orders": _node("model", ["k", "intermediate", "orders", "int_orders"]),
        "model.k.dim_profiles": _node("model", ["k", "marts", "profiles", "dim_profiles"]),
        "model.k.act": _node("model", ["k", "marts", "activation", "act"]),
        "model.k.seg": _node("model", ["k", "segments", "seg"]),
        "model.k.members": _node("model", ["k", "memberships", "members"]),
        "seed.k.rules": _node("seed", ["k", "rules"]),
        "test.k.not_null_dim_ids": _node(
            "test", ["k", "marts", "identity", "not_null"], attached="model.k.dim_ids"
        ),
        "test.k.assert_profiles": _node(
            "test", ["k", "assert_profiles"], parents=["model.k.dim_ids", "model.k.dim_profiles"]
        ),
        "test.k.source_test": _node(
            "test", ["k", "staging", "web", "t"], attached=None, parents=["source.k.web.events"]
        ),
    },
    "sources": {"source.k.web.events": _node("source", ["k", "staging", "web", "events"])},
}


@pytest.mark.parametrize(
    ("unique_id", "stage"),
    [
        ("model.k.stg_a", "staging"),
        ("model.k.int_ids", "identity"),
        ("model.k.dim_ids", "identity"),
        ("model.k.int_web", "profiles"),
        ("model.k.int_orders", "profiles"),
        ("model.k.dim_profiles", "profiles"),
        ("model.k.act", "profiles"),
        ("model.k.seg", "segments"),
        ("model.k.members", "segments"),
        ("seed.k.rules", "staging"),
        ("test.k.not_null_dim_ids", "identity"),
        ("test.k.assert_profiles", "profiles"),  # the most downstream model it reads
        ("test.k.source_test", "staging"),
        ("model.k.unknown", "other"),
    ],
)
def test_node_stage(unique_id: str, stage: str) -> None:
    assert node_stage(MANIFEST, unique_id) == stage


def _result(unique_id: str, start: str, end: str, seconds: float) -> dict:
    timing = [{"name": "execute", "started_at": start, "completed_at": end}]
    return {
        "unique_id": unique_id,
        "execution_time": seconds,
        "timing": timing,
        "status": "success",
    }


def test_split_dbt_sums_node_time_and_keeps_windows() -> None:
    run_results = {
        "results": [
            _result("model.k.stg_a", "2026-11-29T00:00:00Z", "2026-11-29T00:00:02Z", 2.0),
            _result("model.k.int_ids", "2026-11-29T00:00:02Z", "2026-11-29T00:00:05Z", 3.0),
            _result("test.k.not_null_dim_ids", "2026-11-29T00:00:04Z", "2026-11-29T00:00:06Z", 2.0),
        ]
    }
    split = split_dbt(MANIFEST, run_results)
    assert set(split) == {"staging", "identity"}
    assert split["identity"]["nodes"] == 2
    assert split["identity"]["node_seconds"] == pytest.approx(5.0)
    # two overlapping nodes (02-05 and 04-06) cover four seconds of wall time
    assert union_seconds(split["identity"]["windows"]) == pytest.approx(4.0)


def test_union_seconds() -> None:
    assert union_seconds([]) == 0
    assert union_seconds([(0, 2), (1, 3), (5, 6), (5.5, 5.7)]) == pytest.approx(4.0)


def test_step_stage() -> None:
    dbt = ["klant_dbt"]
    assert step_stage({"step_key": "klant_dbt", "assets": {"staging/x": {}}}, dbt) == "dbt"
    assert step_stage({"step_key": "raw__web_events", "assets": {"raw/web_events": {}}}, dbt) == (
        "ingest"
    )
    assert step_stage({"step_key": "raw__web_events_freshness_web", "assets": {}}, dbt) == "audit"
    assert step_stage({"step_key": "x_check", "assets": {}, "checks": 1}, dbt) == "audit"
    assert step_stage({"step_key": "published", "assets": {"published": {}}}, dbt) == "publish"
    assert step_stage({"step_key": "activation__a", "assets": {"activation/a": {}}}, dbt) == (
        "exports"
    )
    assert step_stage({"step_key": "privacy__purge", "assets": {"privacy/purge": {}}}, dbt) == (
        "privacy"
    )


def test_peak_in_windows() -> None:
    samples = [(0.0, 10), (1.0, 50), (2.0, 20), (3.0, 90)]
    assert peak_in(samples, [(0.5, 2.5)]) == 50
    assert peak_in(samples, [(0.5, 1.5), (2.5, 3.5)]) == 90
    assert peak_in(samples, [(4.0, 5.0)]) is None


def _toy(edges: list[tuple[str, str]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table edges (key_a varchar, key_b varchar)")
    con.executemany("insert into edges values (?, ?)", edges)
    return con


def test_group_edges_and_compare_partitions() -> None:
    # two groups joined through b-c and d-e, a lone node f with its self-link
    con = _toy([("a", "b"), ("b", "c"), ("d", "e"), ("e", "d"), ("f", "f")])
    group_edges(con, "edges")
    groups = con.execute(
        "select list(identifier_key order by identifier_key) from bench_labels group by label"
        " order by 1"
    ).fetchall()
    assert [g[0] for g in groups] == [["a", "b", "c"], ["d", "e"], ["f"]]

    con.execute(
        "create table klant as select * from (values ('a', 'k1'), ('b', 'k1'), ('c', 'k1'),"
        " ('d', 'k2'), ('e', 'k2'), ('f', 'k3')) as t(identifier_key, component_key)"
    )
    same = compare_partitions(
        con, "select * from klant", "select identifier_key, label from bench_labels"
    )
    assert same["same"] == 1 and same["left_groups"] == 3

    # klant splitting one group in two, or merging two, or missing a node: not the same
    con.execute("update klant set component_key = 'k4' where identifier_key = 'c'")
    split = compare_partitions(
        con, "select * from klant", "select identifier_key, label from bench_labels"
    )
    assert split["same"] == 0 and split["left_groups"] == 4
    con.execute("update klant set component_key = 'k1' where identifier_key in ('c', 'd', 'e')")
    merged = compare_partitions(
        con, "select * from klant", "select identifier_key, label from bench_labels"
    )
    assert merged["same"] == 0
    con.execute("update klant set component_key = 'k2' where identifier_key in ('d', 'e')")
    con.execute("delete from klant where identifier_key = 'f'")
    missing = compare_partitions(
        con, "select * from klant", "select identifier_key, label from bench_labels"
    )
    assert missing["same"] == 0 and missing["nodes_only_right"] == 1


def test_scaling_compares_time_per_person_with_the_100k_run(tmp_path: Path) -> None:
    from bench.scaling import read_results, scaling_markdown, write_scaling

    def result(size: str, people: int, seconds: float, peak: int) -> dict:
        return {
            "size": size,
            "people": people,
            "measured_at": "2026-11-30T00:00:00Z",
            "commit": "abc1234",
            "wall_seconds": seconds,
            "peak_rss_mb": peak,
            "stages": [{"stage": "ingest", "seconds": seconds / 4}],
        }

    for r in (result("1m", 1_000_000, 1500.0, 6000), result("100k", 100_000, 125.0, 2000)):
        (tmp_path / f"{r['size']}.json").write_text(json.dumps(r))
    (tmp_path / "notes.json").write_text("{}")  # not a result: left out
    assert [r["size"] for r in read_results(tmp_path)] == ["100k", "1m"]
    rows = [line for line in write_scaling(tmp_path).read_text().splitlines() if line[:4] in
            ("| 10", "| 1m")]  # fmt: skip
    assert rows[0].split(" | ")[3:7] == ["125.0", "1.250", "1.00x", "2,000"]
    # 1.5 ms per person against 1.25: 1.2 times
    assert rows[1].split(" | ")[3:7] == ["1,500.0", "1.500", "1.20x", "6,000"]
    assert "(abc1234)" in rows[1] and rows[1].endswith("| 375.0 |  |  |  |  |")
    # without a 100k run there is nothing to compare with
    assert "x |" not in scaling_markdown([result("1m", 1_000_000, 1500.0, 6000)]).splitlines()[-1]


def test_the_report_says_how_many_threads_dbt_ran_on() -> None:
    from bench.report import dbt_threads_note

    assert "one model at a time" in dbt_threads_note(1)
    assert "ran 2 threads" in dbt_threads_note(2) and "overlap" in dbt_threads_note(2)
    assert "unrecorded" in dbt_threads_note(None)


def test_model_seconds_sums_the_named_models_of_the_first_dbt_step(tmp_path: Path) -> None:
    from bench.run import DBT_STEPS, GRAPH_MODELS, model_seconds

    def results(*timed: tuple[str, float]) -> dict:
        return {"results": [{"unique_id": u, "execution_time": t} for u, t in timed]}

    first = tmp_path / "dbt-target" / f"{DBT_STEPS[0]}-abcdef1-0001"
    other = tmp_path / "dbt-target" / f"{DBT_STEPS[0]}-9999999-0002"  # another run
    for folder, timed in (
        (
            first,
            [(f"model.klant.{GRAPH_MODELS[0]}", 1.5), (f"model.klant.{GRAPH_MODELS[2]}", 2.0)]
            + [(f"test.klant.unique_{GRAPH_MODELS[2]}", 9.0), ("model.klant.dim_profiles", 7.0)],
        ),
        (other, [(f"model.klant.{GRAPH_MODELS[0]}", 100.0)]),
    ):
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")
        (folder / "run_results.json").write_text(json.dumps(results(*timed)))
    assert model_seconds(tmp_path, "abcdef1234", GRAPH_MODELS) == pytest.approx(3.5)
    assert model_seconds(tmp_path, "1234567", GRAPH_MODELS) is None


def test_the_report_compares_the_graph_models_with_the_scipy_baseline() -> None:
    from bench.report import markdown

    result = json.loads((Path(__file__).parents[1] / "bench/results/100k.json").read_text())
    identity = result["baselines"]["identity"]
    identity.pop("graph_models_ratio", None)
    assert "graph models only" not in markdown(result)  # older results: no such row
    identity.update(
        graph_models=["int_identifiers_numbered", "int_identifier_links_limited"],
        klant_graph_models_seconds=3.0,
        graph_models_ratio=round(3.0 / identity["seconds"]["total"], 2),
    )
    row = next(line for line in markdown(result).splitlines() if "graph models only" in line)
    assert "int_identifiers_numbered, int_identifier_links_limited" in row
    assert f"| {identity['graph_models_ratio']:.2f}x |" in row


def test_dbt_thread_count_reads_the_thread_ids_of_run_results() -> None:
    from bench.stages import dbt_thread_count

    # the shape of dbt 1.11's run_results.json: every result names its thread in thread_id
    results = {
        "results": [
            {"unique_id": "model.k.a", "thread_id": "Thread-1 (worker)"},
            {"unique_id": "model.k.b", "thread_id": "Thread-2 (worker)"},
            {"unique_id": "model.k.c", "thread_id": "Thread-1 (worker)"},
            {"unique_id": "operation.k.k-on-run-end-0", "thread_id": "main"},
        ]
    }
    assert dbt_thread_count(results) == 2
    assert dbt_thread_count({"results": results["results"][:1] + results["results"][3:]}) == 1


def test_a_node_window_spans_compile_and_execute() -> None:
    from bench.stages import node_window

    # the identity grouping's loop runs queries while dbt compiles the model: 18 s of 28
    result = {
        "timing": [
            {"name": "compile", "started_at": "2026-11-29T00:00:00Z",
             "completed_at": "2026-11-29T00:00:18Z"},
            {"name": "execute", "started_at": "2026-11-29T00:00:18Z",
             "completed_at": "2026-11-29T00:00:28Z"},
        ]
    }  # fmt: skip
    start, end = node_window(result)
    assert end - start == pytest.approx(28.0)
    assert node_window({"timing": []}) is None
    assert node_window({"timing": [{"name": "compile", "started_at": None}]}) is None


def test_identity_reach_counts_the_groups_of_all_links_that_the_new_records_touch(
    tmp_path: Path,
) -> None:
    from bench.baselines import identity_reach
    from bench.report import identity_reach_lines

    build = tmp_path / "build.duckdb"
    con = duckdb.connect(str(build))
    con.execute("create schema intermediate")
    # groups {a, b, c} (b-c dropped by a limit, still one group of links), {d, e}, {f}
    con.execute(
        "create table intermediate.int_identifier_links_limited as select * from (values "
        "('a', 'a', true), ('b', 'b', true), ('c', 'c', true), ('d', 'd', true), "
        "('e', 'e', true), ('f', 'f', true), ('a', 'b', true), ('b', 'c', false), "
        "('d', 'e', true)) as t(identifier_key_a, identifier_key_b, is_kept)"
    )
    # the day's records hold c (so reach a, b, c) and a blocked d (not linkable: no reach)
    con.execute(
        "create table intermediate.int_identifiers_observed as select * from (values "
        "('c', true, timestamp '2026-11-29 10:00'), ('d', false, timestamp '2026-11-29 11:00'), "
        "('e', true, timestamp '2026-11-28 23:59'), ('c', true, timestamp '2026-11-29 12:00')) "
        "as t(identifier_key, is_linkable, observed_at)"
    )
    con.close()
    reach = identity_reach(duckdb.connect(), str(build), "2026-11-29")
    assert reach == {
        "since": "2026-11-29",
        "touched_identifiers": 1,
        "touched_groups": 1,
        "identifiers_reached": 3,
        "identifiers": 6,
        "identifier_share": 0.5,
        "links_reached": 5,
        "links": 9,
        "link_share": round(5 / 9, 4),
    }
    assert "3 of 6 identifiers (50.0%)" in identity_reach_lines(reach)[0]


def test_node_name_drops_the_prefix_and_a_test_names_hash() -> None:
    from bench.stages import node_name

    assert node_name("model.klant.dim_profiles") == "dim_profiles"
    assert node_name("seed.klant.identity_rules") == "identity_rules"
    assert node_name("test.klant.unique_x_person_id.3f2a9c1b0d") == "unique_x_person_id"
    # a short test name has no hash; a last part that is no hash stays
    assert node_name("test.klant.not_null_dim_ids_person_id") == "not_null_dim_ids_person_id"
    assert node_name("test.klant.assert_profiles.v2") == "assert_profiles.v2"


def test_largest_parts_ranks_steps_and_dbt_nodes_and_sums_the_tests_by_stage() -> None:
    from bench.report import largest_lines
    from bench.stages import largest_parts

    steps = [
        {"step_key": "raw__web_events", "start": 0.0, "end": 30.0, "assets": {"raw/x": {}}},
        {"step_key": "klant_dbt", "start": 30.0, "end": 90.0, "assets": {"staging/x": {}}},
        {"step_key": "published", "start": 90.0, "end": 94.0, "assets": {"published": {}}},
        {"step_key": "never_ran", "start": None, "end": None, "assets": {}},
    ]
    run_results = {
        "results": [
            {"unique_id": "model.k.stg_a", "execution_time": 12.0},
            {"unique_id": "model.k.int_ids", "execution_time": 40.0},
            {"unique_id": "test.k.not_null_dim_ids", "execution_time": 5.0},
            {"unique_id": "test.k.assert_profiles", "execution_time": 3.0},
            {"unique_id": "test.k.source_test", "execution_time": 1.0},
            {"unique_id": "operation.k.k-on-run-start-0", "execution_time": 50.0},
        ]
    }
    largest = largest_parts(steps, [(MANIFEST, run_results)], ["klant_dbt"], limit=4)
    # the dbt step is not a part (its nodes are), nor a run hook, nor a step that never ran
    assert [(p["name"], p["kind"], p["stage"], p["seconds"]) for p in largest["parts"]] == [
        ("int_ids", "model", "identity", 40.0),
        ("raw__web_events", "step", "ingest", 30.0),
        ("stg_a", "model", "staging", 12.0),
        ("not_null_dim_ids", "test", "identity", 5.0),
    ]
    assert largest["dbt_tests"] == {
        "staging": {"tests": 1, "seconds": 1.0},
        "identity": {"tests": 1, "seconds": 5.0},
        "profiles": {"tests": 1, "seconds": 3.0},
    }
    lines = "\n".join(largest_lines({"wall_seconds": 100.0, "largest": largest}))
    assert "| int_ids | model | identity | 40.0 | 40.0% |" in lines
    assert "dbt's 3 tests took 9.0 s" in lines
    assert "staging 1.0 (1), identity 5.0 (1), profiles 3.0 (1)" in lines
    # a result measured before the bench recorded its parts renders without them
    assert largest_lines({"wall_seconds": 100.0}) == []
