"""Which benchmark stage a Dagster step or a dbt node belongs to, and the time it took there.

Pure functions over the job's step records (bench.job) and dbt's manifest and run_results, so
that the tests can feed them small fakes.
"""

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

STAGES = (
    "ingest",
    "privacy",
    "staging",
    "identity",
    "profiles",
    "segments",
    "audit",
    "publish",
    "exports",
)
DBT_STAGES = ("staging", "identity", "profiles", "segments")
_PROFILE_AREAS = {"profiles", "orders", "web", "visitors", "activation", "audiences"}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000}


def parse_size(text: str) -> int:
    """'100k' -> 100_000, '1m' -> 1_000_000, '2500' -> 2_500 (people)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"size must be a number with an optional k or m, got {text!r}")
    people = float(match.group(1)) * _SCALE[match.group(2).lower()]
    if people < 1 or people != int(people):
        raise ValueError(f"size must be a whole number of people, got {text!r}")
    return int(people)


def size_label(people: int) -> str:
    """The short name results are filed under: 100000 -> '100k', 1000000 -> '1m'."""
    if people % 1_000_000 == 0:
        return f"{people // 1_000_000}m"
    if people % 1_000 == 0:
        return f"{people // 1_000}k"
    return str(people)


def model_stage(fqn: list[str]) -> str | None:
    """The stage of a dbt model or seed from its folder (fqn: project, folder, area, ..., name)."""
    folder = fqn[1] if len(fqn) > 2 else None
    area = fqn[2] if len(fqn) > 3 else None
    if folder == "staging":
        return "staging"
    if folder in ("intermediate", "marts"):
        if area == "identity":
            return "identity"
        if area in _PROFILE_AREAS:
            return "profiles"
    if folder in ("segments", "memberships"):
        return "segments"
    return None


def node_stage(manifest: Mapping[str, Any], unique_id: str) -> str:
    """A node's stage: models by folder, seeds with staging (reference data read there), tests
    with the model they test (singular tests: the most downstream model they read)."""
    nodes = manifest["nodes"]
    node = nodes.get(unique_id) or manifest.get("sources", {}).get(unique_id)
    if node is None:
        return "other"
    kind = node["resource_type"]
    if kind == "seed":
        return "staging"
    if kind in ("model", "snapshot"):
        return model_stage(node["fqn"]) or "other"
    if kind == "source":
        return "staging"
    if kind in ("test", "unit_test"):
        attached = node.get("attached_node")
        if attached:
            return node_stage(manifest, attached)
        parents = node.get("depends_on", {}).get("nodes", [])
        stages = [node_stage(manifest, parent) for parent in parents]
        ordered = [stage for stage in STAGES if stage in stages]
        return ordered[-1] if ordered else "other"
    return "other"


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def node_window(result: Mapping[str, Any]) -> tuple[float, float] | None:
    """When dbt worked on a node (epoch seconds): from the start of its first timing to the end
    of its last, compile included. A model's compile can run queries: the identity grouping's
    loop (run_query in connected_components_with_limits) runs while dbt compiles it."""
    spans = [
        (_epoch(timing["started_at"]), _epoch(timing["completed_at"]))
        for timing in result.get("timing", [])
        if timing.get("started_at") and timing.get("completed_at")
    ]
    if not spans:
        return None
    return min(start for start, _ in spans), max(end for _, end in spans)


def union_seconds(windows: Iterable[tuple[float, float]]) -> float:
    """Wall time covered by possibly overlapping windows."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(windows):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def split_dbt(manifest: Mapping[str, Any], run_results: Mapping[str, Any]) -> dict[str, dict]:
    """Per stage: the nodes dbt ran there, their summed execution time and their wall windows."""
    stages: dict[str, dict] = {}
    for result in run_results["results"]:
        stage = node_stage(manifest, result["unique_id"])
        entry = stages.setdefault(
            stage, {"nodes": 0, "node_seconds": 0.0, "windows": [], "statuses": {}}
        )
        entry["nodes"] += 1
        entry["node_seconds"] += result.get("execution_time") or 0.0
        window = node_window(result)
        if window:
            entry["windows"].append(window)
        status = result.get("status", "unknown")
        entry["statuses"][status] = entry["statuses"].get(status, 0) + 1
    return stages


def step_stage(step: Mapping[str, Any], dbt_steps: Iterable[str]) -> str:
    """The stage of a Dagster step: dbt steps are split later ("dbt"); a step that only
    evaluated asset checks is audit; others by the asset they materialized."""
    key = step["step_key"]
    if key in set(dbt_steps):
        return "dbt"
    assets = list(step.get("assets", {}))
    if not assets:
        return "audit" if step.get("checks", 0) or _looks_like_check(key) else "other"
    first = assets[0].split("/")[0]
    return {
        "raw": "ingest",
        "privacy": "privacy",
        "published": "publish",
        "activation": "exports",
    }.get(first, "other")


def _looks_like_check(step_key: str) -> bool:
    return any(marker in step_key for marker in ("_gx_", "_volume_", "_freshness_", "_identity_"))


def dbt_thread_count(run_results: Mapping[str, Any]) -> int:
    """How many threads dbt ran the nodes on (run_results' thread_id, "Thread-1 (worker)"); the
    run hooks run on the "main" thread, beside them."""
    return len(
        {r["thread_id"] for r in run_results["results"] if r.get("thread_id") not in (None, "main")}
    )


def node_name(unique_id: str) -> str:
    """A dbt node's name as a reader knows it: 'model.klant.dim_profiles' -> 'dim_profiles'; a
    test's without the hash dbt adds to long names ('unique_x.3f2a9c1b0d' -> 'unique_x')."""
    kind, _, rest = unique_id.partition(".")
    name = rest.partition(".")[2] or rest
    if kind == "test":
        head, _, tail = name.rpartition(".")
        if head and re.fullmatch(r"[0-9a-f]{10}", tail):
            name = head
    return name


def largest_parts(
    steps: Iterable[Mapping[str, Any]],
    dbt_artifacts: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    dbt_steps: Iterable[str],
    limit: int = 15,
) -> dict[str, Any]:
    """Where a run's time went, finer than its stages: the `limit` largest of its Dagster steps
    (the dbt steps excepted) and its dbt nodes (models, tests, seeds, each on its own), with
    their stage and seconds; and per stage, how many dbt tests ran and their summed seconds."""
    dbt_steps = set(dbt_steps)
    parts = [
        {
            "name": step["step_key"],
            "kind": "step",
            "stage": step_stage(step, dbt_steps),
            "seconds": step["end"] - step["start"],
        }
        for step in steps
        if step["step_key"] not in dbt_steps
        and step["start"] is not None
        and step["end"] is not None
    ]
    tests: dict[str, dict[str, Any]] = {}
    for manifest, run_results in dbt_artifacts:
        for result in run_results["results"]:
            unique_id = result["unique_id"]
            kind = unique_id.partition(".")[0]
            if kind not in ("model", "test", "seed", "snapshot"):
                continue  # run hooks: dbt's overhead
            stage = node_stage(manifest, unique_id)
            seconds = result.get("execution_time") or 0.0
            parts.append(
                {"name": node_name(unique_id), "kind": kind, "stage": stage, "seconds": seconds}
            )
            if kind == "test":
                entry = tests.setdefault(stage, {"tests": 0, "seconds": 0.0})
                entry["tests"] += 1
                entry["seconds"] += seconds
    parts.sort(key=lambda part: (-part["seconds"], part["name"]))
    return {
        "parts": [{**p, "seconds": round(p["seconds"], 3)} for p in parts[:limit]],
        "dbt_tests": {
            stage: {"tests": tests[stage]["tests"], "seconds": round(tests[stage]["seconds"], 3)}
            for stage in [*STAGES, "other"]
            if stage in tests
        },
    }
