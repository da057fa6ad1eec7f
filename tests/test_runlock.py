"""One run at a time on a warehouse (klant.runlock): a second run waits, or fails clearly."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from klant.resources import KlantConfig
from klant.runlock import RunLockTimeout, acquire
from klant.settings import Settings
from tests.conftest import copy_sample_exports

HOLD = (
    "from klant.runlock import acquire; from klant.settings import Settings; import time; "
    "h = acquire(Settings.from_env(), 'held-by-test'); print('held', flush=True); time.sleep(600)"
)


def test_a_second_holder_waits_then_gives_up_naming_the_first(settings: Settings):
    first = acquire(settings, "run-a", wait=0)
    started = time.monotonic()
    with pytest.raises(RunLockTimeout, match=r"run run-a, pid \d+"):
        acquire(settings, "run-b", wait=0.6)
    assert time.monotonic() - started >= 0.5
    first.close()
    acquire(settings, "run-b", wait=0).close()


def test_a_killed_holder_releases_the_lock(settings: Settings):
    holder = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunLockTimeout):
        acquire(settings, "run-b", wait=0)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    acquire(settings, "run-b", wait=5).close()


def test_a_run_that_cannot_get_the_warehouse_fails_without_writing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    @dg.asset
    def touches_the_warehouse(klant: KlantConfig) -> None:
        with klant.build_db() as con:
            con.execute("create table written (x int)")

    monkeypatch.setenv("KLANT_RUN_LOCK_WAIT_SECONDS", "0.3")
    held = acquire(settings, "run-a", wait=0)
    try:
        result = dg.materialize(
            [touches_the_warehouse],
            resources={"klant": KlantConfig.from_env()},
            raise_on_error=False,
        )
    finally:
        held.close()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_failure)
    assert "another klant run is using the warehouse" in str(failure.event_specific_data)
    assert not settings.build_db.exists()


@pytest.mark.slow
def test_a_run_started_during_another_waits_for_it(settings: Settings, tmp_path: Path):
    copy_sample_exports(settings.landing_dir)
    held = acquire(settings, "run-a", wait=0)
    log = tmp_path / "run-b.log"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    with log.open("w") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "klant.cli", "run"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 120
        while "waiting for it to finish" not in log.read_text():
            assert run.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the second run never started waiting"
            time.sleep(0.5)
        time.sleep(1)
        assert not settings.build_db.exists()  # it waits before writing anything
    finally:
        held.close()
    assert run.wait(timeout=600) == 0, log.read_text()[-3000:]
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        assert con.execute("select count(*) from dim_profiles").fetchone()[0] > 1000
    finally:
        con.close()


def test_the_landing_sensor_never_waits_for_a_run(settings: Settings):
    """Sensor evaluations only read the landing folder: they take no lock and never block."""
    from klant.definitions import build_definitions

    sensor = build_definitions().resolve_sensor_def("klant_new_landing_files")
    held = acquire(settings, "run-a", wait=0)
    try:
        started = time.monotonic()
        with dg.build_sensor_context(resources={"klant": KlantConfig.from_env()}) as context:
            result = sensor(context)
        assert isinstance(result, dg.SkipReason)  # an empty landing folder
        assert time.monotonic() - started < 30
    finally:
        held.close()
