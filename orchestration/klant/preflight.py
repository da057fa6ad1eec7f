"""Checks made before a step writes the warehouse: refuse early rather than fail half-way."""

import os
import shutil

from klant.settings import Settings

DEFAULT_MIN_FREE_MB = 500


class NotEnoughDisk(Exception):
    """Too little free disk space to build and publish safely."""


def required_free_bytes(settings: Settings) -> int:
    """Room for a build as large as the current one twice over (build + snapshot), and a floor.

    The floor is KLANT_MIN_FREE_DISK_MB (default 500 MB).
    """
    floor = int(float(os.environ.get("KLANT_MIN_FREE_DISK_MB", DEFAULT_MIN_FREE_MB)) * 2**20)
    build = settings.build_db.stat().st_size if settings.build_db.exists() else 0
    return max(floor, 2 * build)


def ensure_free_disk(settings: Settings) -> int:
    """Raise NotEnoughDisk when the warehouse folder's disk is too full; return free bytes."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(settings.warehouse_dir).free
    needed = required_free_bytes(settings)
    if free < needed:
        raise NotEnoughDisk(
            f"only {free / 2**20:,.0f} MB free under {settings.warehouse_dir}, "
            f"{needed / 2**20:,.0f} MB needed (KLANT_MIN_FREE_DISK_MB, or twice the build "
            "file): free some space; nothing was written"
        )
    return free
