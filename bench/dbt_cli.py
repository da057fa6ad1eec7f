"""The project's dbt on a build file of one's own, for the benchmark's copies and the tests."""

import json
import os
import subprocess
import sys
from pathlib import Path

from klant.settings import DBT_PROJECT_DIR

DBT = Path(sys.executable).with_name("dbt")


def dbt_on(args: list[str], build_db: Path, target: Path, variables: dict | None = None) -> str:
    """Run `dbt <args>` on `build_db` with its own target and log folders; its output.

    Raises RuntimeError with the end of dbt's output when dbt fails."""
    command = [str(DBT), *args, "--project-dir", str(DBT_PROJECT_DIR)]
    command += ["--target-path", str(target), "--log-path", str(target / "logs")]
    if variables is not None:
        command += ["--vars", json.dumps(variables)]
    env = {**os.environ, "KLANT_BUILD_DB": str(build_db), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"dbt {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
        )
    return done.stdout
