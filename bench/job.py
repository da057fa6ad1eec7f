"""One run of the `klant_full` Dagster job, alone in its process so its memory is its own.

python -m bench.job --out steps.json [--dbt-target DIR]

The landing folder, warehouse and clock come from the environment (KLANT_LANDING_DIR,
KLANT_WAREHOUSE_DIR, KLANT_AS_OF), as for any run. Writes every step's start and end (epoch
seconds, from Dagster's event log), its status and the numbers its materializations reported.
"""

import argparse
import json
import os
import time
from pathlib import Path

import dagster as dg

_STEP_END = {"STEP_SUCCESS": "success", "STEP_FAILURE": "failure", "STEP_SKIPPED": "skipped"}


def _number(value: object) -> float | None:
    raw = getattr(value, "value", value)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return raw


def step_records(entries: list) -> list[dict]:
    """Per step key: first start, last end, final status, the number of check evaluations and
    the numbers each materialization reported."""
    steps: dict[str, dict] = {}
    for entry in entries:
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        step = steps.setdefault(
            entry.step_key,
            {
                "step_key": entry.step_key,
                "start": None,
                "end": None,
                "status": None,
                "checks": 0,
                "assets": {},
            },
        )
        kind = event.event_type_value
        if kind == "STEP_START" and step["start"] is None:
            step["start"] = entry.timestamp
        elif kind in _STEP_END:
            step["end"], step["status"] = entry.timestamp, _STEP_END[kind]
        elif kind == "ASSET_CHECK_EVALUATION":
            step["checks"] += 1
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            numbers = {
                name: number
                for name, value in materialization.metadata.items()
                if (number := _number(value)) is not None
            }
            step["assets"]["/".join(materialization.asset_key.path)] = numbers
    return sorted(steps.values(), key=lambda s: (s["start"] or 0, s["step_key"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.job")
    parser.add_argument("--out", type=Path, required=True, help="where the step timings go")
    parser.add_argument("--dbt-target", type=Path, help="dbt's target folder for this run")
    args = parser.parse_args(argv)

    if args.dbt_target:
        # the parse, then each dbt command's artifacts (dagster-dbt: <op>-<run>-<uuid>/), here
        args.dbt_target.mkdir(parents=True, exist_ok=True)
        os.environ["DBT_TARGET_PATH"] = str(args.dbt_target.resolve())

    from klant.definitions import build_definitions

    defs = build_definitions()  # parses the dbt project into dbt's target folder first
    instance = dg.DagsterInstance.ephemeral()
    started = time.time()
    result = defs.resolve_job_def("klant_full").execute_in_process(
        instance=instance, raise_on_error=False
    )
    ended = time.time()
    report = {
        "run_id": result.run_id,
        "success": result.success,
        "start": started,
        "end": ended,
        "failures": [e.message for e in result.all_events if e.is_step_failure],
        "steps": step_records(instance.all_logs(result.run_id)),
    }
    args.out.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
