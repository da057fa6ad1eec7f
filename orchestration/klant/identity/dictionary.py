"""raw.identifier_dictionary: every distinct raw e-mail and phone, normalized once.

Staging joins it on (identifier_type, raw_value, region) instead of normalizing in its SQL, so the
rules of email-validator and phonenumbers hold on every warehouse. The region is a phone's
country hint (CRM Country/Region, Shopify Billing Country) mapped through the country_aliases
seed with the SQL the staging models use (trimmed, case-insensitive alias match, '' when none);
a phone without a hint is read with the default region. Plain ASCII e-mails (most of them) are
added by one SQL statement, with email-validator's verdict on each distinct domain; the result
is normalize_email's (tests/test_normalize.py). The dictionary only grows: a value
already in it is never normalized again, so a re-run adds nothing, and changing the default
region needs the rows with region '' deleted first.
"""

import csv
import logging
import multiprocessing
import os
from collections import Counter
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import phonenumbers
import pyarrow as pa

from klant.identity.normalize import (
    EMAIL_MAX_LENGTH,
    PLAIN_EMAIL_PATTERN,
    Normalized,
    checked_domain,
    normalize_email,
    normalize_phone,
)
from klant.ingest.loader import ensure_raw_schema
from klant.settings import DBT_PROJECT_DIR, utc_now

log = logging.getLogger(__name__)

DEFAULT_PHONE_REGION = "NL"
COUNTRY_ALIASES_CSV = DBT_PROJECT_DIR / "seeds" / "country_aliases.csv"
IDENTIFIER_TYPES = ("email", "phone")
CHUNK_ROWS = 200_000
# below this many new values one process normalizes them: starting workers costs about a second
PARALLEL_MIN_VALUES = 50_000

DICTIONARY_DDL = """
create table if not exists raw.identifier_dictionary (
    identifier_type varchar not null,
    raw_value varchar not null,
    region varchar not null,
    normalized_value varchar,
    is_valid boolean not null,
    invalid_reason varchar,
    normalized_at timestamp not null,
    primary key (identifier_type, raw_value, region)
)
"""


def web_event_values_sql(where: str = "true") -> str:
    """The raw web events (those the SQL condition `where` on raw.web_events keeps) with the
    e-mails and phone their traits and properties hold: row_id (the rowid), anonymous_id
    (trimmed), trait_email, trait_phone, property_email. RAW_IDENTIFIER_VALUES_SQL reads every
    event; the retention reads only the events of the devices it may expire."""
    return f"""
    select
        row_id,
        anonymous_id,
        json_extract_string(traits_json, '$.email') as trait_email,
        json_extract_string(traits_json, '$.phone') as trait_phone,
        json_extract_string(properties_json, '$.email') as property_email
    from (
        -- text that is not JSON holds no identifier (and must not fail the whole update)
        select
            rowid as row_id,
            trim(anonymous_id) as anonymous_id,
            case when json_valid(traits) then traits end as traits_json,
            case when json_valid(properties) then properties end as properties_json
        from raw.web_events
        where {where}
    )
    """


# Every raw column that holds an e-mail or phone, one row per raw row and column, with its region
# hint and where it sits (raw table, rowid: the privacy purge deletes by it). The region
# expression must stay the one the staging models use: trimmed, lowercased alias match, '' when
# none. It reads the temporary table klant_country_aliases (alias, country_code).
RAW_IDENTIFIER_VALUES_SQL = f"""
with

aliases as (
    select lower(trim(alias)) as alias_key, min(country_code) as country_code
    from klant_country_aliases
    group by 1
),

contacts as (
    select
        crm_contacts.rowid as row_id,
        crm_contacts.email,
        crm_contacts.phone_number,
        crm_contacts.mobile_phone_number,
        coalesce(aliases.country_code, '') as region
    from raw.crm_contacts
    left join aliases on aliases.alias_key = lower(trim(crm_contacts.country_region))
),

orders as (
    select
        shopify_orders.rowid as row_id,
        shopify_orders.email,
        shopify_orders.billing_phone,
        shopify_orders.shipping_phone,
        shopify_orders.phone,
        coalesce(aliases.country_code, '') as region
    from raw.shopify_orders
    left join aliases on aliases.alias_key = lower(trim(shopify_orders.billing_country))
),

events as (
    {web_event_values_sql()}
),

observed as (
    select 'crm_contacts' as raw_table, row_id, 'email' as identifier_type, email as raw_value,
        '' as region from contacts
    union all select 'crm_contacts', row_id, 'phone', phone_number, region from contacts
    union all select 'crm_contacts', row_id, 'phone', mobile_phone_number, region from contacts
    union all select 'shopify_orders', row_id, 'email', email, '' from orders
    union all select 'shopify_orders', row_id, 'phone', billing_phone, region from orders
    union all select 'shopify_orders', row_id, 'phone', shipping_phone, region from orders
    union all select 'shopify_orders', row_id, 'phone', phone, region from orders
    union all select 'web_events', row_id, 'email', trait_email, '' from events
    union all select 'web_events', row_id, 'phone', trait_phone, '' from events
    union all select 'web_events', row_id, 'email', property_email, '' from events
)

select * from observed
where raw_value is not null and trim(raw_value) <> ''
"""

NEW_VALUES_SQL = f"""
with distinct_values as (
    select distinct identifier_type, raw_value, region
    from ({RAW_IDENTIFIER_VALUES_SQL}) as raw_values
)

select distinct_values.*
from distinct_values
anti join raw.identifier_dictionary as known
    using (identifier_type, raw_value, region)
"""


@dataclass(frozen=True)
class DictionaryUpdate:
    """What one update added, by identifier type, and what the dictionary holds afterwards."""

    added: dict[str, int]
    added_invalid: dict[str, int]
    invalid: dict[str, int]
    row_count: int


def default_phone_region() -> str:
    """The region for phones without prefix or hint: KLANT_DEFAULT_PHONE_REGION, default NL."""
    region = os.environ.get("KLANT_DEFAULT_PHONE_REGION", "").strip().upper()
    region = region or DEFAULT_PHONE_REGION
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"KLANT_DEFAULT_PHONE_REGION={region!r} is not an ISO-2 phone region")
    return region


def read_country_aliases(path: Path = COUNTRY_ALIASES_CSV) -> list[tuple[str, str]]:
    """(alias, country_code) rows of the country_aliases seed."""
    with path.open(newline="", encoding="utf-8") as f:
        return [(row["alias"], row["country_code"]) for row in csv.DictReader(f)]


def ensure_dictionary(con: duckdb.DuckDBPyConnection) -> None:
    """Create raw.identifier_dictionary (and the raw tables it reads) if they are missing."""
    ensure_raw_schema(con)
    con.execute(DICTIONARY_DDL)


def register_country_aliases(
    con: duckdb.DuckDBPyConnection, aliases: list[tuple[str, str]] | None = None
) -> None:
    """The country_aliases seed as the temporary table RAW_IDENTIFIER_VALUES_SQL reads."""
    aliases = read_country_aliases() if aliases is None else aliases
    alias_table = pa.table(  # noqa: F841 - read by the SQL below
        {
            "alias": pa.array([a for a, _ in aliases], pa.string()),
            "country_code": pa.array([c for _, c in aliases], pa.string()),
        }
    )
    con.execute("create or replace temp table klant_country_aliases as select * from alias_table")


def normalize_workers() -> int:
    """Processes that normalize new values: KLANT_NORMALIZE_WORKERS, default the usable cores.

    phonenumbers takes about 25 microseconds a number in pure Python, so a million people's two
    million phones take most of a minute on one core (plain e-mails do not come here)."""
    configured = os.environ.get("KLANT_NORMALIZE_WORKERS", "").strip()
    if not configured:
        return max(1, len(os.sched_getaffinity(0)))
    if not configured.isdigit() or int(configured) < 1:
        raise ValueError(f"KLANT_NORMALIZE_WORKERS={configured!r} is not a positive whole number")
    return int(configured)


def update_dictionary(
    con: duckdb.DuckDBPyConnection,
    default_region: str | None = None,
    aliases: list[tuple[str, str]] | None = None,
    workers: int | None = None,
) -> DictionaryUpdate:
    """Normalize every raw e-mail and phone not yet in the dictionary and add it, atomically.

    Plain e-mails are added by SQL (_add_plain_emails). With more than PARALLEL_MIN_VALUES other
    new values, `workers` processes (normalize_workers()) normalize each chunk in contiguous
    parts, while this one inserts the chunk before."""
    default_region = default_region or default_phone_region()
    workers = workers or normalize_workers()
    ensure_dictionary(con)
    register_country_aliases(con, aliases)
    normalized_at = utc_now()
    added: Counter[str] = Counter()
    added_invalid: Counter[str] = Counter()
    con.begin()
    try:
        con.execute(f"create temp table klant_new_values as {NEW_VALUES_SQL}")
        (count,) = con.execute("select count(*) from klant_new_values").fetchall()[0]
        added["email"] += _add_plain_emails(con, normalized_at)
        con.execute(  # sorted: a phone typed alike under several regions lands in one chunk
            "create temp table klant_python_values as select *, row_number() over "
            "(order by identifier_type, raw_value, region) - 1 as position "
            "from klant_new_values anti join klant_plain_emails using (identifier_type, raw_value)"
        )
        (rest,) = con.execute("select count(*) from klant_python_values").fetchall()[0]
        pool = _pool(workers) if workers > 1 and rest >= PARALLEL_MIN_VALUES else None
        try:
            pending = None  # the chunk being normalized while the one before is inserted
            for offset in range(0, rest, CHUNK_ROWS):  # bounded memory for millions of values
                chunk = con.execute(
                    "select identifier_type, raw_value, region from klant_python_values "
                    "where position >= ? and position < ? order by position",
                    [offset, offset + CHUNK_ROWS],
                ).fetchall()
                started = _normalize_chunk(pool, workers, chunk, default_region)
                if pending is not None:
                    _add_chunk(con, *pending, normalized_at, added, added_invalid)
                pending = (chunk, started)
            if pending is not None:
                _add_chunk(con, *pending, normalized_at, added, added_invalid)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        for table in ("klant_new_values", "klant_plain_emails", "klant_python_values"):
            con.execute(f"drop table {table}")
        con.commit()
    except BaseException:
        con.rollback()
        raise

    invalid = dict(
        con.execute(
            "select identifier_type, count(*) from raw.identifier_dictionary "
            "where not is_valid group by 1"
        ).fetchall()
    )
    (row_count,) = con.execute("select count(*) from raw.identifier_dictionary").fetchall()[0]
    log.info("identifier dictionary: %s new values, %s rows", count, row_count)
    return DictionaryUpdate(
        added={t: added.get(t, 0) for t in IDENTIFIER_TYPES},
        added_invalid={t: added_invalid.get(t, 0) for t in IDENTIFIER_TYPES},
        invalid={t: invalid.get(t, 0) for t in IDENTIFIER_TYPES},
        row_count=row_count,
    )


def _add_plain_emails(con: duckdb.DuckDBPyConnection, normalized_at: datetime) -> int:
    """Add the plain e-mails of klant_new_values by SQL and list them in klant_plain_emails;
    how many. The rules are normalize._plain_email's, with each distinct domain checked once
    by email-validator here: millions of addresses never pass through Python one by one."""
    pattern = PLAIN_EMAIL_PATTERN.replace("'", "''")
    con.execute(
        f"""
        create temp table klant_plain_candidates as
        select
            raw_value,
            region,
            split_part(raw_value, '@', 1) as local_part,
            split_part(raw_value, '@', 2) as domain
        from klant_new_values
        where
            identifier_type = 'email'
            and strlen(raw_value) <= {EMAIL_MAX_LENGTH}
            and regexp_full_match(raw_value, '{pattern}')
        """
    )
    domains = [
        d for (d,) in con.execute("select distinct domain from klant_plain_candidates").fetchall()
    ]
    checked = [checked_domain(domain) for domain in domains]
    checked_domains = pa.table(
        {
            "domain": pa.array(domains, pa.string()),
            "normalized": pa.array([c[0] if c else None for c in checked], pa.string()),
            "length": pa.array([c[1] if c else None for c in checked], pa.int64()),
        }
    )
    con.register("klant_checked_domains", checked_domains)
    try:
        con.execute(
            f"""
            create temp table klant_plain_emails as
            select
                'email' as identifier_type,
                candidates.raw_value,
                candidates.region,
                lower(candidates.local_part) || '@' || domains.normalized as normalized_value
            from klant_plain_candidates as candidates
            inner join klant_checked_domains as domains on domains.domain = candidates.domain
            where
                domains.normalized is not null
                and strlen(candidates.local_part) + 1 + domains.length <= {EMAIL_MAX_LENGTH}
            """
        )
    finally:
        con.unregister("klant_checked_domains")
    con.execute("drop table klant_plain_candidates")
    (added,) = con.execute(
        "insert into raw.identifier_dictionary "
        "select identifier_type, raw_value, region, normalized_value, true, null, ? "
        "from klant_plain_emails",
        [normalized_at],
    ).fetchall()[0]
    return added


def _pool(workers: int) -> Executor:
    # spawned, not forked: this process holds DuckDB's threads and connection
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _normalize_chunk(
    pool: Executor | None, workers: int, chunk: list[tuple[str, str, str]], default_region: str
) -> list:
    """The chunk's results, or futures of its contiguous parts' results when there is a pool.
    Contiguous, as the values are sorted: a phone typed alike under several regions stays in one
    part and is parsed once per effective region."""
    if pool is None:
        return [normalize_values(chunk, default_region)]
    size = -(-len(chunk) // workers)
    return [
        pool.submit(normalize_values, chunk[start : start + size], default_region)
        for start in range(0, len(chunk), size)
    ]


def _add_chunk(
    con: duckdb.DuckDBPyConnection,
    chunk: list[tuple[str, str, str]],
    parts: list,
    normalized_at: datetime,
    added: Counter[str],
    added_invalid: Counter[str],
) -> None:
    results = [n for part in parts for n in (part if isinstance(part, list) else part.result())]
    _insert_chunk(con, chunk, results, normalized_at)
    added.update(t for t, _, _ in chunk)
    added_invalid.update(t for (t, _, _), n in zip(chunk, results, strict=True) if not n.is_valid)


def _insert_chunk(
    con: duckdb.DuckDBPyConnection,
    chunk: list[tuple[str, str, str]],
    results: list[Normalized],
    normalized_at: datetime,
) -> None:
    table = pa.table(
        {
            "identifier_type": pa.array([t for t, _, _ in chunk], pa.string()),
            "raw_value": pa.array([v for _, v, _ in chunk], pa.string()),
            "region": pa.array([r for _, _, r in chunk], pa.string()),
            "normalized_value": pa.array([n.value for n in results], pa.string()),
            "is_valid": pa.array([n.is_valid for n in results], pa.bool_()),
            "invalid_reason": pa.array([n.reason for n in results], pa.string()),
        }
    )
    con.register("klant_normalized_chunk", table)
    try:
        con.execute(
            "insert into raw.identifier_dictionary select identifier_type, raw_value, region, "
            "normalized_value, is_valid, invalid_reason, ? from klant_normalized_chunk",
            [normalized_at],
        )
    finally:
        con.unregister("klant_normalized_chunk")


def normalize_values(values: list[tuple[str, str, str]], default_region: str) -> list[Normalized]:
    """Normalize (type, raw value, region hint) rows, each phone once per effective region."""
    phones: dict[tuple[str, str], Normalized] = {}
    out = []
    for identifier_type, raw_value, region in values:
        if identifier_type == "email":
            out.append(normalize_email(raw_value))
            continue
        key = (raw_value, region or default_region)
        if key not in phones:
            phones[key] = normalize_phone(*key)
        out.append(phones[key])
    return out
