"""Export files written through bounded shuffle buffers, each data line logged in records.csv."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path
from typing import Any, TextIO

from klant.sampledata.clock import window_months
from klant.sampledata.randomness import rng_for

# One data line: (text, record_key, flags, duplicate token or None).
Line = tuple[str, str, tuple[str, ...], str | None]
# Lines that stay together and in order (an order's rows), for one file and one person.
Group = tuple[str, str, list[Line]]

FLAG_ORDER = ("duplicate", "malformed", "junk_email", "junk_phone", "shared_device")
CRM_FILE = "crm/hubspot-contacts-export-2026-11-28.csv"
COMMERCE_FILE = "commerce/orders_export_1.csv"
PEOPLE_FILE = "ground_truth/people.csv"
RECORDS_FILE = "ground_truth/records.csv"
PEOPLE_HEADER = [
    "person_key", "kind", "first_name", "last_name", "email", "phone_e164", "country",
    "in_crm", "in_commerce", "in_web",
]  # fmt: skip
RECORDS_HEADER = ["source", "file", "line_number", "record_key", "person_key", "flags"]
CRM_HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
    "Company Name", "Job Title", "Street Address", "City", "Postal Code", "Country/Region",
    "Create Date", "Last Modified Date", "Lifecycle Stage", "Lead Status",
    "Marketing email opt-in",
]  # fmt: skip
SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
    "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street",
    "Billing Address1", "Billing Address2", "Billing Company", "Billing City", "Billing Zip",
    "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City",
    "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone", "Notes",
    "Cancelled at", "Payment Method", "Refunded Amount", "Vendor", "Id", "Tags", "Risk Level",
    "Source", "Lineitem discount", "Phone",
]  # fmt: skip


def web_file(month: str) -> str:
    """Relative path of the Segment events file of one month ('2026-03')."""
    return f"web/segment-events-{month}.jsonl"


def join_flags(flags: tuple[str, ...] | list[str]) -> str:
    """Flags in their canonical order, ';'-joined."""
    return ";".join(flag for flag in FLAG_ORDER if flag in flags)


class CsvLine:
    """Formats one CSV record as a string without its line terminator."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")

    def __call__(self, fields: list[str]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(fields)
        return self.buffer.getvalue()[:-1]


def _open(path: Path) -> TextIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w", encoding="utf-8", newline="", buffering=1 << 20)


class Sink:
    """One export file; groups wait in a bounded buffer and leave it in random order."""

    def __init__(
        self,
        out_dir: Path,
        rel: str,
        source: str,
        header: list[str] | None,
        ledger: Any,
        rng: random.Random,
        capacity: int,
    ) -> None:
        self.rel, self.source, self.ledger, self.rng = rel, source, ledger, rng
        self.capacity = capacity
        self.file = _open(out_dir / rel)
        self.line_number = 0
        self.count = 0
        self.buffer: list[tuple[str, list[Line]]] = []
        self.pending: dict[str, None] = {}
        if header is not None:
            self.file.write(CsvLine()(header) + "\n")
            self.line_number = 1

    def add(self, person_key: str, lines: list[Line]) -> None:
        """Queue a group; once the buffer is full, a random queued group is written."""
        self.buffer.append((person_key, lines))
        if len(self.buffer) > self.capacity:
            self._emit_random()

    def _emit_random(self) -> None:
        position = self.rng.randrange(len(self.buffer))
        self.buffer[position], self.buffer[-1] = self.buffer[-1], self.buffer[position]
        person_key, lines = self.buffer.pop()
        for text, record_key, flags, token in lines:
            if token is not None:
                # Of two deliveries of one event, the one written second is the duplicate.
                if token in self.pending:
                    del self.pending[token]
                    flags = ("duplicate", *flags)
                else:
                    self.pending[token] = None
            self.file.write(text + "\n")
            self.line_number += 1
            self.count += 1
            self.ledger.writerow(
                (self.source, self.rel, self.line_number, record_key, person_key, join_flags(flags))
            )

    def close(self) -> int:
        """Write what is left and close the file; returns the number of data lines."""
        while self.buffer:
            self._emit_random()
        self.file.close()
        return self.count


class ExportWriter:
    """All export files of one run plus the two ground-truth files."""

    def __init__(self, out_dir: Path, seed: int, capacity: int = 2_000) -> None:
        self.out_dir, self.seed, self.capacity = out_dir, seed, capacity
        self.records_file = _open(out_dir / RECORDS_FILE)
        self.ledger = csv.writer(self.records_file, lineterminator="\n")
        self.ledger.writerow(RECORDS_HEADER)
        self.people_file = _open(out_dir / PEOPLE_FILE)
        self.people = csv.writer(self.people_file, lineterminator="\n")
        self.people.writerow(PEOPLE_HEADER)
        self.people_count = 0
        self.sinks: dict[str, Sink] = {
            "crm": self._sink(CRM_FILE, "crm", CRM_HEADER),
            "commerce": self._sink(COMMERCE_FILE, "commerce", SHOPIFY_HEADER),
        }

    def _sink(self, rel: str, source: str, header: list[str] | None) -> Sink:
        rng = rng_for(self.seed, f"shuffle:{rel}", 0)
        return Sink(self.out_dir, rel, source, header, self.ledger, rng, self.capacity)

    def add(self, groups: list[Group]) -> None:
        """Queue the groups of one person or visitor; sink 'web:YYYY-MM' is a month file."""
        for sink_key, person_key, lines in groups:
            sink = self.sinks.get(sink_key)
            if sink is None:
                sink = self._sink(web_file(sink_key[4:]), "web", None)
                self.sinks[sink_key] = sink
            sink.add(person_key, lines)

    def add_person(self, row: list[str]) -> None:
        """One row of people.csv."""
        self.people.writerow(row)
        self.people_count += 1

    def close(self) -> dict[str, int]:
        """Flush everything; returns data lines per written file, keyed by relative path."""
        counts = {CRM_FILE: 0, COMMERCE_FILE: 0}
        for key in sorted(self.sinks):
            counts[self.sinks[key].rel] = self.sinks[key].close()
        for month in window_months():
            stale = self.out_dir / web_file(month)
            if f"web:{month}" not in self.sinks and stale.exists():
                stale.unlink()
        self.people_file.close()
        self.records_file.close()
        counts[PEOPLE_FILE] = self.people_count
        counts[RECORDS_FILE] = sum(counts.values()) - self.people_count
        return dict(sorted(counts.items()))
