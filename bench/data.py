"""Benchmark exports from the sample generator, generated once per size and generator version."""

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import klant.sampledata

STAMP = "bench-stamp.json"


def generator_hash() -> str:
    """sha256 over the generator's source files: a changed generator means new data."""
    digest = hashlib.sha256()
    folder = Path(klant.sampledata.__file__).parent
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def stamp_for(people: int, seed: int) -> dict:
    return {"people": people, "seed": seed, "generator_sha256": generator_hash()}


def ensure_exports(out: Path, people: int, seed: int) -> tuple[Path, float | None]:
    """The exports for `people` in `out`, generated unless a stamp says they already are.

    Returns the folder and the generation time (None when reused).
    """
    wanted = stamp_for(people, seed)
    stamp = out / STAMP
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return out, None
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "klant.sampledata", "--people", str(people)]
    command += ["--seed", str(seed), "--out", str(staging)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"generator failed:\n{done.stdout}\n{done.stderr}")
    (staging / STAMP).write_text(json.dumps(wanted, indent=2))
    staging.rename(out)
    return out, elapsed
