"""One more day of exports for the incremental benchmark: 1% of the events and orders, again.

The new day copies a deterministic 1% sample of the web events and of the orders (every line of
a sampled order) to the day after the exports end, with new ids: the same people come back, so
the new data touches existing persons as a real day does. Each copied record keeps its time of
day; every timestamp of the record moves by the same number of days. Order Completed events are
left out of the event sample (they name an order of their day). The new files go into a landing
folder of their own that also links every original file, so the second run loads only them.
"""

import csv
import hashlib
import io
import json
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path

EVENT_TIMES = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
# Shopify's export writes "2026-09-27 13:27:23 +0200"
_ORDER_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
_ORDER_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"
_ORDER_NUMBER = re.compile(r"^#?(\d+)$")
SHARE = 0.01


def _new_id(old: str, day: date) -> str:
    """A new uuid-shaped id, the same for the same old id and day."""
    digest = hashlib.sha256(f"{old}|{day.isoformat()}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _iso_shift(text: str, day: date, base: datetime | None) -> tuple[str, datetime]:
    """An ISO time ("...Z") moved to `day`, or by the shift `base` set for the record."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if base is None:
        base = moment
    target_start = datetime.combine(day, base.time(), tzinfo=base.tzinfo)
    shifted = moment + (target_start - base)
    rendered = shifted.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return rendered, base


def shift_event(event: dict, day: date) -> dict:
    """The event on `day`, same time of day, with a new messageId."""
    event = dict(event)
    event["messageId"] = _new_id(str(event.get("messageId")), day)
    base = None
    for name in EVENT_TIMES:
        if isinstance(event.get(name), str):
            event[name], base = _iso_shift(event[name], day, base)
    return event


def new_events(web_files: list[Path], day: date, seed: int, share: float = SHARE) -> list[str]:
    """A `share` sample of every file's events (no Order Completed), moved to `day`."""
    rng = random.Random(seed)
    lines = []
    for path in web_files:
        with path.open("rb") as handle:
            for raw in handle:
                if rng.random() >= share:
                    continue
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue  # a deliberately bad line of the sample: not part of the new day
                if not isinstance(event, dict) or event.get("event") == "Order Completed":
                    continue
                if not isinstance(event.get("timestamp"), str):
                    continue
                try:
                    moved = shift_event(event, day)
                except ValueError:
                    continue
                lines.append(json.dumps(moved, ensure_ascii=False, separators=(",", ":")))
    return lines


def new_orders(
    order_files: list[Path], day: date, seed: int, share: float = SHARE
) -> tuple[list[str], list[list[str]]]:
    """A `share` sample of the orders (all their lines), renumbered after the largest order
    number and moved to `day`. Returns the header and the rows."""
    rng = random.Random(seed + 1)
    header: list[str] = []
    orders: dict[str, list[list[str]]] = {}
    largest = 0
    for path in order_files:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            name_at, created_at = header.index("Name"), header.index("Created at")
            for row in reader:
                if len(row) != len(header):
                    continue
                number = _ORDER_NUMBER.match(row[name_at].strip())
                if number:
                    largest = max(largest, int(number.group(1)))
                if _ORDER_TIME.match(row[created_at].strip()):
                    orders.setdefault(row[name_at], []).append(row)
    id_at = header.index("Id") if "Id" in header else None
    rows = []
    next_number = largest
    for name in sorted(orders):
        if rng.random() >= share:
            continue
        next_number += 1
        lines = orders[name]
        base = datetime.strptime(lines[0][created_at].strip(), _ORDER_TIME_FORMAT)
        shift = datetime.combine(day, base.time(), tzinfo=base.tzinfo) - base
        for line in lines:
            line = list(line)
            line[name_at] = f"#{next_number}"
            if id_at is not None and line[id_at]:
                line[id_at] = str(
                    int(hashlib.sha256(f"{line[id_at]}|{day}".encode()).hexdigest()[:12], 16)
                )
            for i, value in enumerate(line):
                if _ORDER_TIME.match(value.strip()):
                    moment = datetime.strptime(value.strip(), _ORDER_TIME_FORMAT) + shift
                    line[i] = moment.strftime(_ORDER_TIME_FORMAT)
            rows.append(line)
    return header, rows


def build_landing(
    original: Path, target: Path, day: date, seed: int, share: float = SHARE
) -> dict[str, int]:
    """`target`: links to every file of `original` plus the new day's events and orders."""
    counts = {}
    for path in sorted(original.rglob("*")):
        if path.is_file() and "ground_truth" not in path.relative_to(original).parts:
            link = target / path.relative_to(original)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())
    events = new_events(sorted((original / "web").glob("*.jsonl")), day, seed, share)
    (target / "web" / f"segment-events-{day.isoformat()}.jsonl").write_text(
        "".join(line + "\n" for line in events), encoding="utf-8"
    )
    header, rows = new_orders(sorted((original / "commerce").glob("*.csv")), day, seed, share)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    (target / "commerce" / f"orders_export_{day.isoformat()}.csv").write_text(
        buffer.getvalue(), encoding="utf-8"
    )
    counts["web_events"] = len(events)
    counts["orders_rows"] = len(rows)
    counts["orders"] = len({row[header.index("Name")] for row in rows})
    return counts


def next_day(as_of: str) -> tuple[date, str]:
    """The day after the exports end (the as-of day) and the as-of of the run that follows it."""
    moment = datetime.fromisoformat(as_of)
    return moment.date(), (moment + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
