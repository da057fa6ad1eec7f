"""When klant runs: a daily schedule and a sensor on the landing folders."""

import hashlib
import json

import dagster as dg

from klant.ingest.loader import landing_files
from klant.ingest.sources import SOURCES
from klant.resources import KlantConfig


def landing_snapshot(klant: KlantConfig) -> dict[str, list[int]]:
    """Every landing file with its size and modification time; no warehouse access."""
    landing = klant.settings.landing_dir
    snapshot = {}
    for spec in SOURCES:
        for path in landing_files(spec, landing):
            stat = path.stat()
            snapshot[str(path.relative_to(landing))] = [stat.st_size, stat.st_mtime_ns]
    return snapshot


def build_automation(job: dg.JobDefinition) -> tuple[dg.ScheduleDefinition, dg.SensorDefinition]:
    daily = dg.ScheduleDefinition(
        name="klant_daily",
        job=job,
        cron_schedule="0 3 * * *",
        execution_timezone="UTC",
        description="The full build every night at 03:00 UTC.",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )

    @dg.sensor(
        name="klant_new_landing_files",
        job=job,
        minimum_interval_seconds=60,
        description="Starts the full build when a file lands or changes in a landing folder.",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def new_files(context: dg.SensorEvaluationContext, klant: KlantConfig):
        seen = json.loads(context.cursor) if context.cursor else {}
        now = landing_snapshot(klant)
        changed = sorted(path for path, stamp in now.items() if seen.get(path) != stamp)
        if not changed:
            return dg.SkipReason("no new or changed landing files")
        context.update_cursor(json.dumps(now, sort_keys=True))
        key = hashlib.sha256(json.dumps({p: now[p] for p in changed}).encode()).hexdigest()[:16]
        return dg.RunRequest(run_key=f"landing-{key}", tags={"klant/new_files": str(len(changed))})

    return daily, new_files
