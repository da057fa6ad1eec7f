"""Resident memory of a process and all its descendants, sampled from /proc in a thread."""

import os
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
PROC = Path("/proc")


def _parent(stat: str) -> int:
    # /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def tree_rss(root: int) -> int:
    """Bytes resident in `root` and every process below it (0 once it is gone)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = _parent((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            total += int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
        pending.extend(children.get(pid, []))
    return total


class TreeSampler(threading.Thread):
    """Samples (epoch seconds, RSS bytes) of a process tree every `interval` seconds."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), tree_rss(self.root)))
            self._stop_event.wait(self.interval)

    def stop(self) -> list[tuple[float, int]]:
        self._stop_event.set()
        self.join()
        return self.samples


def peak_in(samples: list[tuple[float, int]], windows: list[tuple[float, float]]) -> int | None:
    """The largest sample taken inside any of the windows; None when none fell inside."""
    inside = [rss for at, rss in samples if any(start <= at <= end for start, end in windows)]
    return max(inside) if inside else None
