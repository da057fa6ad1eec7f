"""The benchmark: python -m bench.run --size 100k

Generates the exports (once per size and generator version) into bench/data/<size>/, runs the
full `klant_full` job on DuckDB in a fresh bench/work/<size>/ in a subprocess while sampling the
memory of its process tree, splits the time into stages (the dbt step by dbt's run_results),
runs the identity and traits baselines on a copy of the build, and writes
bench/results/<size>.json and bench/results/<size>.md.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from bench import baselines, chains, newday
from bench.data import ensure_exports, generator_hash
from bench.memory import TreeSampler, peak_in
from bench.report import markdown
from bench.scaling import write_scaling
from bench.stages import (
    DBT_STAGES,
    STAGES,
    dbt_thread_count,
    largest_parts,
    node_stage,
    parse_size,
    size_label,
    split_dbt,
    step_stage,
    union_seconds,
)
from klant.settings import DBT_PROJECT_DIR, dbt_memory_limit, duckdb_config

BENCH_DIR = Path(__file__).absolute().parent
REPO_ROOT = BENCH_DIR.parent
AS_OF = "2026-11-29 00:00:00"  # the day the sample exports end
DBT_STEPS = ("klant_dbt", "klant_dbt_segment_rollup")
MB = 1024 * 1024


def run_job(
    landing: Path, work: Path, as_of: str, name: str = "full"
) -> tuple[dict, list[tuple[float, int]]]:
    """The job in its own process, its memory sampled every 0.2 s; returns steps and samples.
    A second run (name) in the same work folder carries on from the first one's warehouse."""
    env = {
        **os.environ,
        "KLANT_LANDING_DIR": str(landing),
        "KLANT_WAREHOUSE_DIR": str(work / "warehouse"),
        "KLANT_AS_OF": as_of,
        "DAGSTER_HOME": str(work / "dagster_home"),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    }
    env.pop("KLANT_EXPORTS_DIR", None)
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    steps = work / f"steps-{name}.json"
    command = [sys.executable, "-m", "bench.job", "--out", str(steps)]
    command += ["--dbt-target", str(work / "dbt-target")]
    with (work / f"job-{name}.log").open("w") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        sampler = TreeSampler(process.pid)
        sampler.start()
        code = process.wait()
        samples = sampler.stop()
    if code != 0 or not steps.exists():
        raise RuntimeError(f"the job process exited with {code}; see {work / f'job-{name}.log'}")
    return json.loads(steps.read_text()), samples


def dbt_artifacts(target: Path, step_key: str, run_id: str) -> tuple[dict, dict] | None:
    """manifest and run_results of one dbt step (dagster-dbt: <target>/<op>-<run[:7]>-<uuid>)."""
    found = sorted(target.glob(f"{step_key}-{run_id[:7]}-*/run_results.json"))
    if not found:
        return None
    folder = found[-1].parent
    return (
        json.loads((folder / "manifest.json").read_text()),
        json.loads((folder / "run_results.json").read_text()),
    )


def count_rows(con: duckdb.DuckDBPyConnection, relation: str) -> int | None:
    try:
        return con.execute(f"select count(*) from {relation}").fetchall()[0][0]
    except duckdb.Error:
        return None


def _sum(values: list[int | float | None]) -> int | None:
    present = [v for v in values if v is not None]
    return int(sum(present)) if present else None


def _metadata_sum(steps: list[dict], suffix: str = "", prefix: str = "") -> int | None:
    """The sum of the numbers the steps' materializations reported under matching names."""
    return _sum(
        [
            value
            for step in steps
            for numbers in step["assets"].values()
            for name, value in numbers.items()
            if name.endswith(suffix) and name.startswith(prefix)
        ]
    )


def dbt_rows(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], run_results: Mapping[str, Any]
) -> dict[str, dict[str, int | None]]:
    """Per dbt stage: rows of the models it built (out) and of what it read from outside (in)."""
    relations = {**manifest["nodes"], **manifest.get("sources", {})}
    counts: dict[str, int | None] = {}

    def rows(unique_id: str) -> int | None:
        if unique_id not in counts:
            relation = relations.get(unique_id, {}).get("relation_name")
            counts[unique_id] = count_rows(con, relation) if relation else None
        return counts[unique_id]

    result: dict[str, dict] = {}
    for stage in DBT_STAGES:
        built = [
            r["unique_id"]
            for r in run_results["results"]
            if r["unique_id"].startswith("model.") and node_stage(manifest, r["unique_id"]) == stage
        ]
        if not built:
            continue
        parents = {
            parent
            for unique_id in built
            for parent in manifest["nodes"][unique_id]["depends_on"]["nodes"]
            if parent.startswith("source.")
            or (parent.startswith("model.") and node_stage(manifest, parent) != stage)
        }
        result[stage] = {
            "rows_in": _sum([rows(p) for p in sorted(parents)]),
            "rows_out": _sum([rows(u) for u in built]),
            "models": len(built),
        }
    return result


def measure(report: dict, samples: list[tuple[float, int]], work: Path) -> dict:
    """Stage rows (time, rows in and out, peak memory) from the job's steps and dbt's results."""
    steps = report["steps"]
    stages: dict[str, dict] = {
        stage: {"seconds": 0.0, "windows": [], "rows_in": None, "rows_out": None, "steps": 0}
        for stage in STAGES
    }
    by_stage: dict[str, list[dict]] = {}
    for step in steps:
        stage = step_stage(step, DBT_STEPS)
        by_stage.setdefault(stage, []).append(step)
        if stage in stages and step["start"] and step["end"]:
            stages[stage]["windows"].append((step["start"], step["end"]))
            stages[stage]["steps"] += 1

    ingest = [
        s for s in by_stage.get("ingest", []) if "raw/identifier_dictionary" not in s["assets"]
    ]
    stages["ingest"]["rows_in"] = _sum(
        [_metadata_sum(ingest, "rows_loaded"), _metadata_sum(ingest, "rows_quarantined")]
    )
    stages["ingest"]["rows_out"] = _metadata_sum(by_stage.get("ingest", []), "rows_loaded")
    stages["privacy"]["rows_out"] = _metadata_sum(by_stage.get("privacy", []), "rows_removed")
    stages["publish"]["rows_in"] = _metadata_sum(by_stage.get("publish", []), prefix="rows/")
    stages["publish"]["rows_out"] = stages["publish"]["rows_in"]
    stages["exports"]["rows_in"] = _metadata_sum(by_stage.get("exports", []), "/segment_members")
    stages["exports"]["rows_out"] = _metadata_sum(by_stage.get("exports", []), "/exported_rows")
    stages["audit"]["checks"] = sum(s.get("checks", 0) for s in by_stage.get("audit", []))

    dbt_overhead, dbt_nodes, artifacts, dbt_threads = 0.0, {}, [], 0
    build_db = work / "warehouse" / "build.duckdb"
    con = duckdb.connect(str(build_db), read_only=True)
    for step in by_stage.get("dbt", []):
        found = dbt_artifacts(work / "dbt-target", step["step_key"], report["run_id"])
        if found is None:
            continue
        manifest, run_results = found
        artifacts.append(found)
        dbt_threads = max(dbt_threads, dbt_thread_count(run_results))
        split = split_dbt(manifest, run_results)
        # run hooks and other nodes without a stage count as dbt's overhead
        split.pop("other", None)
        all_windows = [w for entry in split.values() for w in entry["windows"]]
        dbt_overhead += (step["end"] - step["start"]) - union_seconds(all_windows)
        for stage, entry in split.items():
            target = stages.setdefault(
                stage, {"seconds": 0.0, "windows": [], "rows_in": None, "rows_out": None}
            )
            target["windows"] += entry["windows"]
            target["node_seconds"] = target.get("node_seconds", 0.0) + entry["node_seconds"]
            target["dbt_nodes"] = target.get("dbt_nodes", 0) + entry["nodes"]
            dbt_nodes[stage] = dbt_nodes.get(stage, 0) + entry["nodes"]
        for stage, rows in dbt_rows(con, manifest, run_results).items():
            for key in ("rows_in", "rows_out"):
                stages[stage][key] = _sum([stages[stage][key], rows[key]])
    con.close()

    rows = []
    for stage, entry in stages.items():
        if not entry["windows"]:
            continue
        peak = peak_in(samples, entry["windows"])
        rows.append(
            {
                "stage": stage,
                "seconds": round(union_seconds(entry["windows"]), 3),
                "node_seconds": _rounded(entry.get("node_seconds")),
                "rows_in": entry["rows_in"],
                "rows_out": entry["rows_out"],
                "peak_rss_mb": round(peak / MB) if peak else None,
                "steps": entry.get("steps"),
                "dbt_nodes": entry.get("dbt_nodes"),
                "checks": entry.get("checks"),
            }
        )
    step_windows = [(s["start"], s["end"]) for s in steps if s["start"] and s["end"]]
    wall = report["end"] - report["start"]
    return {
        "stages": rows,
        "dbt_overhead_seconds": round(dbt_overhead, 3),
        "dbt_threads": dbt_threads or None,
        "dagster_overhead_seconds": round(wall - union_seconds(step_windows), 3),
        "wall_seconds": round(wall, 3),
        "process_seconds": round(samples[-1][0] - samples[0][0], 3) if samples else None,
        "peak_rss_mb": round(max(rss for _, rss in samples) / MB) if samples else None,
        "step_count": len(steps),
        "failed_steps": [s["step_key"] for s in steps if s["status"] == "failure"],
        "largest": largest_parts(steps, artifacts, DBT_STEPS),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def stage_seconds(measured: dict, stage: str, field: str = "seconds") -> float | None:
    for row in measured["stages"]:
        if row["stage"] == stage:
            return row[field]
    return None


def run_baselines(work: Path, measured: dict, as_of: str, run_id: str) -> dict:
    """Both baselines on a copy of the build DB, with klant's stage time over theirs, and the
    time of the models each baseline reproduces over theirs."""
    copy = work / "baseline.duckdb"
    shutil.copyfile(work / "warehouse" / "build.duckdb", copy)
    con = duckdb.connect(str(copy))
    identity = baselines.identity_baseline(con)
    traits = baselines.traits_baseline(con, as_of)
    con.close()
    copy.unlink()
    klant_identity = stage_seconds(measured, "identity")
    klant_profiles = stage_seconds(measured, "profiles")
    identity["klant_identity_seconds"] = klant_identity
    identity["ratio"] = round(klant_identity / identity["seconds"]["total"], 2)
    traits["klant_profiles_seconds"] = klant_profiles
    traits["ratio"] = round(klant_profiles / traits["seconds"], 2)
    graph_models = model_seconds(work, run_id, GRAPH_MODELS)
    identity["graph_models"] = list(GRAPH_MODELS)
    identity["klant_graph_models_seconds"] = graph_models
    if graph_models:
        identity["graph_models_ratio"] = round(graph_models / identity["seconds"]["total"], 2)
    traits_models = model_seconds(work, run_id, TRAIT_MODELS)
    traits["klant_trait_models_seconds"] = traits_models
    if traits_models:
        traits["trait_models_ratio"] = round(traits_models / traits["seconds"], 2)
    return {"identity": identity, "traits": traits}


TRAIT_MODELS = (
    "int_orders_attributed", "int_product_categories", "int_person_order_traits",
    "int_web_events_profiled", "int_web_sessions", "int_web_profile_traits",
    "int_person_web_traits",
)  # fmt: skip


# the identifier dictionary, the links, their grouping under the rules and the groups written
# back to identifiers: what the scipy baseline does (mapping, grouping, write-back)
GRAPH_MODELS = (
    "int_identifiers_numbered", "int_identifiers_linked", "int_identifier_links_limited",
    "int_identifiers_clustered",
)  # fmt: skip


def model_seconds(work: Path, run_id: str, models: tuple[str, ...]) -> float | None:
    """dbt execution time of the given models in the job's first dbt step (tests excluded)."""
    found = dbt_artifacts(work / "dbt-target", DBT_STEPS[0], run_id)
    if found is None:
        return None
    _, run_results = found
    wanted = {f"model.klant.{name}" for name in models}
    return round(
        sum(r["execution_time"] for r in run_results["results"] if r["unique_id"] in wanted), 3
    )


LIMITED = "int_identifier_links_limited"
# the line macros/identity_incremental.sql logs after a run that computed only some link groups
RECOMPUTED_LINKS = re.compile(rf"{LIMITED}: recomputed the links of (\d+) of (\d+) identifiers")


def identity_recomputed(work: Path, run_id: str) -> dict | None:
    """How many identifiers' links the job's first dbt step computed again, as the post-hook of
    int_identifier_links_limited logged it (macros/identity_incremental.sql); None when the
    step computed every link (no such line) or left no log."""
    logs = sorted((work / "dbt-target").glob(f"{DBT_STEPS[0]}-{run_id[:7]}-*/dbt.log"))
    if not logs:
        return None
    found = RECOMPUTED_LINKS.findall(logs[-1].read_text(errors="replace"))
    if not found:
        return None
    done, total = (int(n) for n in found[-1])
    return {
        "identifiers_recomputed": done,
        "identifiers": total,
        "identifier_share": round(done / total, 4) if total else None,
    }


def incremental_run(
    landing: Path, work: Path, as_of: str, full: dict, seed: int, full_run_id: str | None = None
) -> dict:
    """After the full run: one more day of data (newday), the job again, timed the same way."""
    day, next_as_of = newday.next_day(as_of)
    landing_next = work / "landing-next"
    shutil.rmtree(landing_next, ignore_errors=True)
    added = newday.build_landing(landing, landing_next, day, seed)
    print(f"[bench] incremental run: {added} on {day} (as of {next_as_of})", flush=True)
    report, samples = run_job(landing_next, work, next_as_of, name="incremental")
    if not report["success"]:
        raise RuntimeError(f"the incremental klant_full failed: {report['failures']}")
    measured = measure(report, samples, work)
    with duckdb.connect() as con:  # in memory: the build file is only attached, read-only
        reach = baselines.identity_reach(
            con, str(work / "warehouse" / "build.duckdb"), day.isoformat()
        )
    recomputed = identity_recomputed(work, report["run_id"])
    if recomputed is not None:
        recomputed["model_seconds"] = model_seconds(work, report["run_id"], (LIMITED,))
        if full_run_id is not None:
            recomputed["model_seconds_full"] = model_seconds(work, full_run_id, (LIMITED,))
    return {
        "day": day.isoformat(),
        "as_of": next_as_of,
        "added": added,
        **measured,
        "share_of_full": round(measured["wall_seconds"] / full["wall_seconds"], 4),
        "identity_reach": reach,
        "identity_recomputed": recomputed,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--size", default="100k", help="people: 10k, 100k, 300k, 1m ...")
    parser.add_argument("--as-of", default=AS_OF, help="the build's 'now' (KLANT_AS_OF)")
    parser.add_argument(
        "--incremental",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the full run, add one day (1%% of events and orders) and run again",
    )
    parser.add_argument(
        "--chains",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the identity stage again with long chains of linked anonymous ids added",
    )
    args = parser.parse_args(argv)
    from klant.sampledata import DEFAULT_SEED

    people = parse_size(args.size)
    label = size_label(people)
    data_dir, work = BENCH_DIR / "data" / label, BENCH_DIR / "work" / label
    results = BENCH_DIR / "results"
    results.mkdir(exist_ok=True)

    print(f"[bench] exports for {people:,} people in {data_dir}", flush=True)
    landing, generated = ensure_exports(data_dir, people, DEFAULT_SEED)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load_at_start = os.getloadavg()
    print(f"[bench] klant_full in {work}", flush=True)
    report, samples = run_job(landing, work, args.as_of)
    if not report["success"]:
        raise RuntimeError(f"klant_full failed: {report['failures']}")
    measured = measure(report, samples, work)
    print("[bench] baselines", flush=True)
    compared = run_baselines(work, measured, args.as_of, report["run_id"])
    counts = {
        path.relative_to(landing).as_posix(): sum(1 for _ in path.open("rb")) - 1
        for path in sorted(landing.rglob("*"))
        if path.is_file() and path.suffix in (".csv", ".jsonl") and "ground_truth" not in path.parts
    }
    result = {
        "size": label,
        "people": people,
        "as_of": args.as_of,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "load_average_at_start": [round(load, 2) for load in load_at_start],
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "duckdb_memory_limit": duckdb_config()["memory_limit"],
            "dbt_memory_limit": dbt_memory_limit(),
        },
        "commit": source_commit(),
        "generator_sha256": generator_hash(),
        "generation_seconds": round(generated, 1) if generated is not None else None,
        "export_lines": {
            "web_events": sum(v for k, v in counts.items() if k.startswith("web/")),
            "orders_rows": sum(v for k, v in counts.items() if k.startswith("commerce/")),
            "crm_contacts": sum(v for k, v in counts.items() if k.startswith("crm/")),
        },
        **measured,
        "baselines": compared,
    }
    # the results so far are written after each part: a long run stopped later keeps them
    write_results(results, label, result)
    if args.chains:
        print("[bench] identity stage with and without long chains", flush=True)
        result["chains"] = chains.compare(work, args.as_of)
        write_results(results, label, result)
    if args.incremental:
        result["incremental"] = incremental_run(
            landing, work, args.as_of, measured, DEFAULT_SEED, report["run_id"]
        )
        write_results(results, label, result)
    print(markdown(result), flush=True)
    return result


def source_commit() -> str | None:
    """The checkout's commit, with "-dirty" when files other than bench/results (written by
    the benchmark itself) differ from it; None outside git."""

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=BENCH_DIR, capture_output=True, text=True)

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return None
    dirty = git(
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ":(top)",
        ":(top,exclude)bench/results",
    ).stdout.strip()
    return head.stdout.strip() + ("-dirty" if dirty else "")


def write_results(folder: Path, label: str, result: dict) -> None:
    (folder / f"{label}.json").write_text(json.dumps(result, indent=2) + "\n")
    (folder / f"{label}.md").write_text(markdown(result))
    write_scaling(folder)


if __name__ == "__main__":
    main()
