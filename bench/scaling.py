"""How time and peak memory grow with size: bench/results/scaling.md from every <size>.json there.

    python -m bench.scaling

`make bench` rewrites it after each run. Time per person is compared with the 100k run's (the
issue's target: at most 1.2 times at 1M); sizes measured at other commits or on another day
are shown as they are, each with its own measurement time.
"""

import json
import sys
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REFERENCE_PEOPLE = 100_000
STAGES = ("ingest", "staging", "identity", "profiles", "audit")


def read_results(folder: Path) -> list[dict]:
    """Every benchmark result in `folder`, smallest size first."""
    results = []
    for path in folder.glob("*.json"):
        result = json.loads(path.read_text())
        if isinstance(result, dict) and {"people", "wall_seconds", "stages"} <= result.keys():
            results.append(result)
    return sorted(results, key=lambda r: r["people"])


def scaling_markdown(results: list[dict]) -> str:
    """One row per size: whole run, time per person against the 100k run's, peak memory, and
    the seconds of the main stages."""
    reference = next((r for r in results if r["people"] == REFERENCE_PEOPLE), None)
    per_person_ref = reference["wall_seconds"] / reference["people"] if reference else None
    lines = [
        "# klant benchmark: scaling with size",
        "",
        "The full `klant_full` run per size (bench/results/<size>.json). Time per person is "
        "compared with the 100k run's; the target at 1m is at most 1.2x.",
        "",
        "| size | people | measured | whole run s | ms per person | vs 100k | peak RSS MB | "
        + " | ".join(f"{stage} s" for stage in STAGES)
        + " |",
        "|---|---:|---|---:|---:|---:|---:|" + "---:|" * len(STAGES),
    ]
    for result in results:
        per_person = result["wall_seconds"] / result["people"]
        versus = f"{per_person / per_person_ref:.2f}x" if per_person_ref else ""
        stages = {s["stage"]: s["seconds"] for s in result["stages"]}
        cells = [
            result["size"],
            f"{result['people']:,}",
            result["measured_at"] + (f" ({result['commit']})" if result.get("commit") else ""),
            f"{result['wall_seconds']:,.1f}",
            f"{per_person * 1000:.3f}",
            versus,
            f"{result['peak_rss_mb']:,}",
            *(f"{stages[s]:,.1f}" if s in stages else "" for s in STAGES),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_scaling(folder: Path = RESULTS_DIR) -> Path:
    target = folder / "scaling.md"
    target.write_text(scaling_markdown(read_results(folder)))
    return target


if __name__ == "__main__":
    print(write_scaling(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS_DIR).read_text())
