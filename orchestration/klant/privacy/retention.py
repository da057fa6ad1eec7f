"""Retention: anonymous visitors, third-party audiences and quarantined lines are kept briefly.

- A **visitor** (a cookie that never identified) whose last event is older than
  KLANT_VISITOR_RETENTION_DAYS (default 90) before the build's "now" expires: the models leave
  it out of every table they build, and the next run deletes its events, its DMP memberships,
  its identifiers, its segment history and its rows in published snapshots and export files. A
  visitor who identified is a person, and first-party retention applies to the whole history.
- A **third-party audience** row (raw.dmp_audiences) is deleted once its ``expires_at`` passed.
- A **quarantined line** is deleted KLANT_QUARANTINE_RETENTION_DAYS (default 90) after it was
  quarantined: long enough to fix a feed, not a second, unaudited copy of the data.

"Now" is KLANT_AS_OF when set (the same moment the dbt models measure from), else the clock.
"""

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from klant.identity.dictionary import web_event_values_sql
from klant.privacy.purge import PurgeReport
from klant.settings import env_float, utc_now, visitor_retention_days


def quarantine_retention_days() -> int:
    return int(env_float("KLANT_QUARANTINE_RETENTION_DAYS", 90))


def as_of() -> datetime:
    """The build's "now" (UTC, naive): KLANT_AS_OF as dbt reads it, else the clock."""
    text = os.environ.get("KLANT_AS_OF", "").strip()
    if not text:
        return utc_now()
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"KLANT_AS_OF must be 'YYYY-MM-DD[ HH:MM[:SS]]', got {text!r}") from error


@dataclass
class Expiry:
    """What this run's retention found expired."""

    now: datetime
    visitor_cutoff: datetime
    anonymous_ids: list[str]

    def tokens(self) -> set[str]:
        """Every form a visitor's cookie id takes in klant's tables and export files."""
        return {
            token
            for anonymous_id in self.anonymous_ids
            for token in (anonymous_id, f"anonymous_id:{anonymous_id}", f"kv_{anonymous_id}")
        }


def expired_visitors(con: duckdb.DuckDBPyConnection, now: datetime) -> Expiry:
    """Cookies that are visitors and have had no event since the cut-off.

    A cookie is a visitor when none of its events carries a user id, an e-mail or a phone: only
    such an event can link a cookie to a person, so this needs no earlier build and agrees with
    the models, which drop the same visitors (int_web_events_profiled). The cookies unseen since
    the cut-off and without a user id come first, from two plain columns; the JSON of traits
    and properties is then read for their events only, not for every event of every run (at a
    million people 10 million events: 4.0 s a run against 1.4 s,
    bench/results/comparisons/1m-retention-unseen-cookies.md).
    """
    cutoff = now - timedelta(days=visitor_retention_days())
    con.execute(
        """
        create or replace temp table klant_unseen_cookies as
        select anonymous_id
        from (
            select
                trim(anonymous_id) as anonymous_id,
                max(try_cast("timestamp" as timestamptz)) as last_seen_at,
                count(nullif(trim(user_id), '')) as user_events
            from raw.web_events
            where nullif(trim(anonymous_id), '') is not null
            group by 1
        ) as devices
        where user_events = 0 and last_seen_at < cast(? as timestamptz)
        """,
        [cutoff.isoformat() + "+00:00"],
    )
    unseen_events = web_event_values_sql(
        "trim(anonymous_id) in (select anonymous_id from klant_unseen_cookies)"
    )
    try:
        rows = con.execute(
            f"""
            with identified as (
                select distinct anonymous_id
                from ({unseen_events}) as events
                where
                    nullif(trim(trait_email), '') is not null
                    or nullif(trim(trait_phone), '') is not null
                    or nullif(trim(property_email), '') is not null
            )

            select unseen.anonymous_id
            from klant_unseen_cookies as unseen
            anti join identified using (anonymous_id)
            order by 1
            """
        ).fetchall()
    finally:
        con.execute("drop table klant_unseen_cookies")
    return Expiry(now, cutoff, [r[0] for r in rows])


def delete_expired_raw_rows(con: duckdb.DuckDBPyConnection, expiry: Expiry) -> PurgeReport:
    """Raw rows past retention: expired visitors' events, expired DMP rows, old quarantine."""
    report = PurgeReport()
    if expiry.anonymous_ids:
        con.execute(
            "create or replace temp table klant_expired_cookies as "
            "select unnest(?::varchar[]) as anonymous_id",
            [expiry.anonymous_ids],
        )
        report.add(
            "raw.web_events",
            con.execute(
                "delete from raw.web_events where user_id is null and trim(anonymous_id) in "
                "(select anonymous_id from klant_expired_cookies)"
            ).fetchone()[0],
        )
        con.execute("drop table klant_expired_cookies")
    report.add(
        "raw.dmp_audiences",
        con.execute(
            "delete from raw.dmp_audiences "
            "where try_cast(expires_at as timestamptz) <= cast(? as timestamptz)",
            [expiry.now.isoformat() + "+00:00"],
        ).fetchone()[0],
    )
    quarantine_cutoff = expiry.now - timedelta(days=quarantine_retention_days())
    report.add(
        "raw.quarantine",
        con.execute(
            "delete from raw.quarantine where quarantined_at < ?", [quarantine_cutoff]
        ).fetchone()[0],
    )
    return report
