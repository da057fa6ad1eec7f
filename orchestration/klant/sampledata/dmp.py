"""Third-party audience files of two DMPs: which cookie or hashed e-mail is in which audience.

A DMP matches our Segment anonymousId through a cookie sync, or the SHA-256 of a trimmed,
lowercased e-mail; every row says which provider put it there, when it was fetched and until
when it holds. One file per provider and fetch, written as the people are generated. Every
draw comes from streams of their own ('dmp/...'), so the feed changes no other sample byte.
"""

from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

from klant.sampledata.people import Person
from klant.sampledata.randomness import Weighted, chance, rng_for, uuid_from

HEADER = [
    "cookie_id", "hashed_email", "audience_code", "audience_name", "provider", "fetched_at",
    "expires_at",
]  # fmt: skip
# The day after the sample ends: memberships are active or expired as of this moment.
AS_OF = datetime(2026, 11, 29, tzinfo=UTC)
# An active membership expires this many days after AS_OF (inclusive range).
EXPIRY_DAYS = (30, 90)
AUDIENCES = {
    "in-market/auto": "In-market: cars",
    "in-market/home-garden": "In-market: home and garden",
    "in-market/consumer-electronics": "In-market: consumer electronics",
    "affinity/travel": "Affinity: travel",
    "affinity/sports-fitness": "Affinity: sports and fitness",
    "affinity/pets": "Affinity: pet owners",
    "demographic/parents": "Demographic: parents",
}
COUNTS = Weighted([(1, 0.6), (2, 0.3), (3, 0.1)])


@dataclass(frozen=True)
class Feed:
    """One audience file: a provider's fetch, and how that provider matches and ages rows."""

    provider: str
    fetched_at: datetime
    offset_hours: int  # the provider writes its times with this UTC offset
    audiences: tuple[str, ...]
    device_share: float  # of our devices (persons' and visitors') in this fetch
    email_share: float  # of known people, by hashed e-mail
    expired_share: float  # of rows whose expiry already passed at AS_OF

    @property
    def rel(self) -> str:
        return f"dmp/{self.provider}-audiences-{self.fetched_at:%Y-%m-%d}.csv"

    def stamp(self, moment: datetime) -> str:
        """ISO 8601 with the provider's offset: 2026-11-27T06:00:00+01:00."""
        return moment.astimezone(timezone(timedelta(hours=self.offset_hours))).isoformat()


# Audiencehub syncs cookies only and writes Amsterdam time; its October fetch overlaps the
# November one (the newer fetch wins) and a fifth of its rows have expired by AS_OF. Datapoint
# matches hashed e-mails mostly, in UTC.
FEEDS = (
    Feed(
        "audiencehub", datetime(2026, 10, 2, 4, 0, tzinfo=UTC), 2,
        ("in-market/auto", "in-market/home-garden", "affinity/travel", "affinity/pets",
         "demographic/parents"),
        device_share=0.08, email_share=0.0, expired_share=0.2,
    ),
    Feed(
        "audiencehub", datetime(2026, 11, 27, 5, 0, tzinfo=UTC), 1,
        ("in-market/auto", "in-market/home-garden", "affinity/travel", "affinity/pets",
         "demographic/parents"),
        device_share=0.15, email_share=0.0, expired_share=0.0,
    ),
    Feed(
        "datapoint", datetime(2026, 11, 20, 8, 30, tzinfo=UTC), 0,
        ("in-market/auto", "in-market/consumer-electronics", "affinity/travel",
         "affinity/sports-fitness"),
        device_share=0.04, email_share=0.12, expired_share=0.03,
    ),
)  # fmt: skip
# Of the devices in the newer audiencehub fetch, this share was already in the older one.
REFETCH_SHARE = 0.3
# Every this many people, one cookie and one e-mail hash the shop never saw join a feed.
STRANGER_PERIOD = 150


def hash_email(email: str) -> str:
    """SHA-256 hex of the trimmed, lowercased e-mail, as DMPs and ad platforms match it."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


class DmpWriter:
    """The audience files of one run, rows written as each person and visitor comes along."""

    def __init__(self, out_dir: Path, seed: int) -> None:
        self.seed = seed
        self.files: dict[str, TextIO] = {}
        self.writers: dict[str, Any] = {}  # csv writers
        self.counts: dict[str, int] = {}
        for feed in FEEDS:
            path = out_dir / feed.rel
            path.parent.mkdir(parents=True, exist_ok=True)
            self.files[feed.rel] = open(path, "w", encoding="utf-8", newline="")
            self.writers[feed.rel] = csv.writer(self.files[feed.rel], lineterminator="\n")
            self.writers[feed.rel].writerow(HEADER)
            self.counts[feed.rel] = 0

    def _write(
        self, rng: random.Random, feed: Feed, cookie: str, hashed: str, codes: list[str]
    ) -> None:
        expired = chance(rng, feed.expired_share)
        for code in codes:
            if expired:  # ran out between the fetch and AS_OF
                span = (AS_OF - feed.fetched_at).total_seconds()
                expires = feed.fetched_at + timedelta(seconds=1 + int(rng.random() * (span - 2)))
            else:
                days = rng.randint(*EXPIRY_DAYS)
                expires = AS_OF + timedelta(days=days, hours=feed.fetched_at.hour)
            row = [cookie, hashed, code, AUDIENCES[code], feed.provider]
            row += [feed.stamp(feed.fetched_at), feed.stamp(expires)]
            self.writers[feed.rel].writerow(row)
            self.counts[feed.rel] += 1

    def _codes(self, rng: random.Random, feed: Feed) -> list[str]:
        return sorted(rng.sample(feed.audiences, COUNTS.pick(rng)))

    def _device(self, rng: random.Random, cookie: str) -> None:
        older, newer, other = FEEDS
        in_newer = chance(rng, newer.device_share)
        refetched = chance(rng, REFETCH_SHARE)
        if in_newer:
            codes = self._codes(rng, newer)
            if refetched:
                self._write(rng, older, cookie, "", codes[:1])
            self._write(rng, newer, cookie, "", codes)
        elif chance(rng, older.device_share):
            self._write(rng, older, cookie, "", self._codes(rng, older))
        if chance(rng, other.device_share):
            self._write(rng, other, cookie, "", self._codes(rng, other))

    def add_person(self, person: Person, devices: list[str]) -> None:
        """The memberships of one person: their devices by cookie, themselves by e-mail hash."""
        rng = rng_for(self.seed, "dmp/person", person.index)
        for cookie in devices:
            self._device(rng, cookie)
        feed = FEEDS[2]
        if chance(rng, feed.email_share):
            self._write(rng, feed, "", hash_email(person.email), self._codes(rng, feed))
        if person.index % STRANGER_PERIOD == STRANGER_PERIOD - 1:
            self._stranger(person.index // STRANGER_PERIOD)

    def add_visitor(self, number: int, cookie: str) -> None:
        """The memberships of one anonymous visitor's cookie."""
        self._device(rng_for(self.seed, "dmp/visitor", number), cookie)

    def _stranger(self, number: int) -> None:
        """A cookie and an e-mail the shop never saw: they match no one."""
        rng = rng_for(self.seed, "dmp/stranger", number)
        _, newer, other = FEEDS
        self._write(rng, newer, uuid_from(rng), "", self._codes(rng, newer))
        email = f"stranger{number}.{rng.getrandbits(32):08x}@example.net"
        self._write(rng, other, "", hash_email(email), self._codes(rng, other))

    def close(self) -> dict[str, int]:
        """Close the files; returns data lines per file, keyed by relative path."""
        for handle in self.files.values():
            handle.close()
        return dict(self.counts)
