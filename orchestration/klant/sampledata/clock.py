"""Fixed time window of the sample exports and the timestamp formats of each source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ANCHOR = datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC)
WINDOW_START = datetime(2025, 11, 29, 0, 0, 0, tzinfo=UTC)
ANCHOR_MS = int((ANCHOR - EPOCH).total_seconds()) * 1000
WINDOW_START_MS = int((WINDOW_START - EPOCH).total_seconds()) * 1000
SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000


def _last_sunday_1am_utc(year: int, month: int) -> int:
    """Epoch ms of 01:00 UTC on the last Sunday of a month (EU summer-time switch)."""
    day = datetime(year, month, 31, 1, tzinfo=UTC)
    day -= timedelta(days=(day.weekday() + 1) % 7)
    return int((day - EPOCH).total_seconds()) * 1000


_SUMMER_TIME = [
    (_last_sunday_1am_utc(year, 3), _last_sunday_1am_utc(year, 10)) for year in (2025, 2026, 2027)
]


def month_key(ms: int) -> str:
    """The 'YYYY-MM' (UTC) of a timestamp, as used in the web file names."""
    return _minute_prefix(ms // MINUTE)[:7]


def window_months() -> list[str]:
    """Every 'YYYY-MM' of the data window, oldest first."""
    months, year, month = [], WINDOW_START.year, WINDOW_START.month
    while (year, month) <= (ANCHOR.year, ANCHOR.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _second(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


@lru_cache(maxsize=4096)
def _minute_prefix(minutes: int) -> str:
    return _second(minutes * 60).strftime("%Y-%m-%dT%H:%M:")


def iso_ms(ms: int) -> str:
    """Segment's ISO-8601 UTC timestamp with milliseconds: 2026-03-05T14:22:11.123Z."""
    seconds, millis = divmod(ms, SECOND)
    return f"{_minute_prefix(ms // MINUTE)}{seconds % 60:02d}.{millis:03d}Z"


def hubspot(ms: int) -> str:
    """HubSpot export date: 'YYYY-MM-DD HH:MM' in UTC."""
    return _second(ms // 1000).strftime("%Y-%m-%d %H:%M")


def shopify(ms: int) -> str:
    """Shopify export timestamp in the shop's Europe/Amsterdam time: '2026-03-05 14:22:11 +0100'."""
    hours = 2 if any(start <= ms < end for start, end in _SUMMER_TIME) else 1
    local = _second(ms // 1000 + hours * 3600)
    return f"{local:%Y-%m-%d %H:%M:%S} +0{hours}00"


def iso_week(ms: int) -> tuple[int, int]:
    """ISO year and week number of a timestamp."""
    year, week, _ = _second(ms // 1000).isocalendar()
    return year, week
