"""One run at a time on a warehouse: an exclusive lock held from a run's start to its end.

Dagster's concurrency pool serializes the steps that write the DuckDB build file, but two
runs' steps could still interleave (run A audits its tables, run B rebuilds them, run A
publishes B's unaudited build). So every run takes this lock when its resources start and
keeps it until they are torn down. The second run waits for the first to finish (up to
KLANT_RUN_LOCK_WAIT_SECONDS, default 3600) and then fails with a message naming the holder.
The lock is an flock(2) on <warehouse>/.klant-run.lock: the kernel releases it when its
process dies, even by kill -9, so a crashed run never blocks the next one.
"""

import fcntl
import logging
import os
import time
from datetime import UTC, datetime
from typing import IO

from klant.settings import Settings, env_float

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5


class RunLockTimeout(Exception):
    """Another run kept the warehouse for longer than this run would wait."""


def lock_path(settings: Settings):
    return settings.warehouse_dir / ".klant-run.lock"


def wait_seconds() -> float:
    return env_float("KLANT_RUN_LOCK_WAIT_SECONDS", 3600.0)


def acquire(
    settings: Settings,
    run_id: str | None,
    wait: float | None = None,
    logger: logging.Logger | None = None,
) -> IO[str]:
    """Hold the warehouse's run lock, waiting for another run to finish; returns the open lock
    file (closing it releases the lock)."""
    logger = logger or log
    wait = wait_seconds() if wait is None else wait
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole run
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = path.read_text(encoding="utf-8").strip() or "unknown"
            if time.monotonic() >= deadline:
                handle.close()
                raise RunLockTimeout(
                    f"another klant run is using the warehouse {settings.warehouse_dir} "
                    f"({holder}); gave up after waiting {wait:g} s "
                    "(KLANT_RUN_LOCK_WAIT_SECONDS). Nothing was written by this run."
                ) from None
            if not announced:
                logger.warning(
                    f"another klant run is using the warehouse ({holder}): waiting for it to finish"
                )
                announced = True
            time.sleep(POLL_SECONDS)
    handle.seek(0)
    handle.truncate()
    since = datetime.now(UTC).isoformat(timespec="seconds")
    handle.write(f"run {run_id or '-'}, pid {os.getpid()}, since {since}\n")
    handle.flush()
    return handle
