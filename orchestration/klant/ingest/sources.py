"""What each landing source looks like: its folder, file format, columns and row rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

_NON_WORD = re.compile(r"[^a-z0-9]+")


def snake_case(name: str) -> str:
    """Turn a header or JSON key into a raw column name: 'Country/Region' -> 'country_region'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())  # camelCase -> camel_Case
    column = _NON_WORD.sub("_", spaced.lower()).strip("_")
    if column and column[0].isdigit():
        column = f"c_{column}"
    return column


def _hubspot_time(text: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"not a HubSpot timestamp (YYYY-MM-DD HH:MM): {text!r}")


# Shopify's own form, read without strptime (a tenth of the time): anything else, and anything
# this form holds that is no time, goes to strptime, so what passes and each error are strptime's
_SHOPIFY_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)([0-5]\d)", re.ASCII
)


def _shopify_time(text: str) -> datetime:
    match = _SHOPIFY_TIME.fullmatch(text)
    if match:
        year, month, day, hour, minute, second, sign, off_hours, off_minutes = match.groups()
        offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
        try:
            return datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second),
                tzinfo=timezone(-offset if sign == "-" else offset),
            )  # fmt: skip
        except ValueError:
            pass
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")


def _iso_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a UTC offset: {text!r}")
    return parsed


_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def _sha256_hex(text: str) -> str:
    if not _SHA256_HEX.match(text):
        raise ValueError(f"not a SHA-256 hex digest (64 hex digits): {text!r}")
    return text


def _decimal(text: str) -> str:
    if not _DECIMAL.match(text):
        raise ValueError(f"not a number: {text!r}")
    return text


@dataclass(frozen=True)
class SourceSpec:
    """A landing source: where its files land and the rules a row must pass to load."""

    name: str
    table: str
    file_format: Literal["csv", "jsonl"]
    patterns: tuple[str, ...]
    columns: tuple[str, ...]
    required_columns: tuple[str, ...]
    required_values: tuple[str, ...] = ()
    typed_values: dict[str, object] = field(default_factory=dict)
    json_keys: dict[str, str] = field(default_factory=dict)
    allowed_values: dict[str, frozenset[str]] = field(default_factory=dict)
    one_of: tuple[tuple[str, ...], ...] = ()
    # a rule across columns of one row: the reason the row is bad, or None
    row_check: Callable[[dict[str, str | None]], str | None] | None = None
    # columns read from the file but never stored: the ingest asset's row transform replaces
    # them, and a quarantined line of such a source keeps no text (privacy requests)
    redacted_columns: tuple[str, ...] = ()
    # columns the raw table holds that no file has: the row transform fills them
    derived_columns: tuple[str, ...] = ()
    # columns of long text (JSON objects) the raw table stores with zstd rather than DuckDB's
    # own choice (dictionary or FSST, chosen by an analysis of every row group): a month of web
    # events at a million people, 714k lines, loads in 10.3 s instead of 15.3 s (the write and
    # its checkpoint) into 102 MB instead of 319 MB, and reads as fast. Short columns (ids,
    # codes, names) compress better and faster DuckDB's way: zstd on every column of the orders
    # made their load slower and three times the size.
    zstd_columns: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        return self.name


CRM_COLUMNS = tuple(
    snake_case(h)
    for h in (
        "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
        "Company Name", "Job Title", "Street Address", "City", "Postal Code", "Country/Region",
        "Create Date", "Last Modified Date", "Lifecycle Stage", "Lead Status",
        "Marketing email opt-in",
    )
)  # fmt: skip

SHOPIFY_COLUMNS = tuple(
    snake_case(h)
    for h in (
        "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
        "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total",
        "Discount Code", "Discount Amount", "Shipping Method", "Created at",
        "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
        "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable",
        "Lineitem fulfillment status", "Billing Name", "Billing Street", "Billing Address1",
        "Billing Address2", "Billing Company", "Billing City", "Billing Zip", "Billing Province",
        "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
        "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City",
        "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone", "Notes",
        "Cancelled at", "Payment Method", "Refunded Amount", "Vendor", "Id", "Tags",
        "Risk Level", "Source", "Lineitem discount", "Phone",
    )
)  # fmt: skip

SEGMENT_KEYS = {
    "messageId": "message_id",
    "type": "type",
    "event": "event",
    "name": "name",
    "anonymousId": "anonymous_id",
    "userId": "user_id",
    "timestamp": "timestamp",
    "sentAt": "sent_at",
    "receivedAt": "received_at",
    "channel": "channel",
    "traits": "traits",
    "properties": "properties",
    "context": "context",
}

CRM = SourceSpec(
    name="crm",
    table="crm_contacts",
    file_format="csv",
    patterns=("*.csv",),
    columns=CRM_COLUMNS,
    required_columns=(
        "record_id",
        "first_name",
        "last_name",
        "email",
        "phone_number",
        "create_date",
        "last_modified_date",
    ),  # fmt: skip
    required_values=("record_id",),
    typed_values={"create_date": _hubspot_time, "last_modified_date": _hubspot_time},
)

COMMERCE = SourceSpec(
    name="commerce",
    table="shopify_orders",
    file_format="csv",
    patterns=("*.csv",),
    columns=SHOPIFY_COLUMNS,
    required_columns=(
        "name",
        "email",
        "financial_status",
        "currency",
        "total",
        "created_at",
        "lineitem_quantity",
        "lineitem_name",
        "lineitem_price",
    ),  # fmt: skip
    required_values=("name", "created_at"),
    typed_values={
        "created_at": _shopify_time,
        "paid_at": _shopify_time,
        "cancelled_at": _shopify_time,
        "subtotal": _decimal,
        "shipping": _decimal,
        "taxes": _decimal,
        "total": _decimal,
        "discount_amount": _decimal,
        "refunded_amount": _decimal,
        "lineitem_quantity": _decimal,
        "lineitem_price": _decimal,
    },
)

WEB = SourceSpec(
    name="web",
    table="web_events",
    file_format="jsonl",
    patterns=("*.jsonl", "*.json"),
    columns=tuple(SEGMENT_KEYS.values()),
    required_columns=(),
    required_values=("message_id", "type", "timestamp"),
    typed_values={"timestamp": _iso_time},
    json_keys=SEGMENT_KEYS,
    zstd_columns=("traits", "properties", "context"),
    allowed_values={
        "type": frozenset({"identify", "track", "page", "screen", "group", "alias"}),
    },
    one_of=(("anonymous_id", "user_id"),),
)


def _expires_after_fetch(row: dict[str, str | None]) -> str | None:
    fetched, expires = row.get("fetched_at"), row.get("expires_at")
    if fetched and expires and _iso_time(expires.strip()) <= _iso_time(fetched.strip()):
        return f"expires_at {expires!r} is not after fetched_at {fetched!r}"
    return None


# Third-party audience files from a DMP: which cookie (our Segment anonymousId, matched by the
# DMP's cookie sync) or hashed e-mail (SHA-256 of the trimmed, lowercased address) belongs to
# which audience, from which provider, fetched when and valid until when.
DMP = SourceSpec(
    name="dmp",
    table="dmp_audiences",
    file_format="csv",
    patterns=("*.csv",),
    columns=(
        "cookie_id",
        "hashed_email",
        "audience_code",
        "audience_name",
        "provider",
        "fetched_at",
        "expires_at",
    ),  # fmt: skip
    required_columns=(
        "cookie_id",
        "hashed_email",
        "audience_code",
        "provider",
        "fetched_at",
        "expires_at",
    ),  # fmt: skip
    required_values=("audience_code", "provider", "fetched_at", "expires_at"),
    typed_values={"fetched_at": _iso_time, "expires_at": _iso_time, "hashed_email": _sha256_hex},
    one_of=(("cookie_id", "hashed_email"),),
    row_check=_expires_after_fetch,
)

PRIVACY_REQUEST_TYPES = frozenset({"erasure"})
PRIVACY_IDENTIFIER_TYPES = frozenset({"email", "phone", "customer_id", "person_id"})

# Privacy requests (GDPR art. 17 erasure). The identifier is never stored: the ingest asset
# replaces it with keyed hashes of its normalized forms (klant.privacy.keys) before the row is
# written, and a bad line is quarantined without its text.
PRIVACY = SourceSpec(
    name="privacy",
    table="privacy_requests",
    file_format="csv",
    patterns=("*.csv",),
    columns=("request_id", "request_type", "identifier_type", "requested_at"),
    required_columns=(
        "request_id",
        "request_type",
        "identifier_type",
        "identifier_value",
        "requested_at",
    ),  # fmt: skip
    required_values=(
        "request_id",
        "request_type",
        "identifier_type",
        "identifier_value",
        "requested_at",
    ),  # fmt: skip
    typed_values={"requested_at": _iso_time},
    allowed_values={
        "request_type": PRIVACY_REQUEST_TYPES,
        "identifier_type": PRIVACY_IDENTIFIER_TYPES,
    },
    redacted_columns=("identifier_value",),
    derived_columns=("identifier_hashes",),
)

SOURCES: tuple[SourceSpec, ...] = (CRM, WEB, COMMERCE, DMP, PRIVACY)
SOURCES_BY_NAME = {spec.name: spec for spec in SOURCES}


# SQL twins of the Python checks, for the loader's bulk path in DuckDB. Each is true only for
# text its Python function certainly accepts (a narrower, plain form: four-digit years from 1000,
# two-digit fields in range, a real calendar date); false or null sends the row through the
# Python function, which then decides and gives the reason. "{v}" stands for the column's SQL
# expression (the loader replaces it; the templates are no format strings).
_SQL_YMD = "[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_SQL_HMS = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_SQL_OFFSET_HOURS = "[+-]([01][0-9]|2[0-3])"
_SQL_DATE = " and try_cast(left({v}, 10) as date) is not null"
TYPED_VALUE_SQL: dict[object, str] = {
    _iso_time: "regexp_full_match({v}, '" + _SQL_YMD + "T" + _SQL_HMS
    + r"(\.[0-9]{3}|\.[0-9]{6})?(Z|" + _SQL_OFFSET_HOURS + ":[0-5][0-9])')" + _SQL_DATE,
    _hubspot_time: "regexp_full_match({v}, '" + _SQL_YMD
    + " ([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?')" + _SQL_DATE,
    _shopify_time: "regexp_full_match({v}, '" + _SQL_YMD + " " + _SQL_HMS + " "
    + _SQL_OFFSET_HOURS + "[0-5][0-9]')" + _SQL_DATE,
    _decimal: r"regexp_full_match({v}, '-?[0-9]+(\.[0-9]+)?')",
    _sha256_hex: "regexp_full_match({v}, '[0-9a-fA-F]{64}')",
}  # fmt: skip
# row checks as SQL over the row's columns ("{fetched_at}": that column's expression), true only
# for rows the Python check certainly passes once the typed checks above have held
ROW_CHECK_SQL: dict[object, str] = {
    _expires_after_fetch: (
        "({fetched_at} is null or {expires_at} is null or coalesce("
        "try_cast({expires_at} as timestamptz) > try_cast({fetched_at} as timestamptz), false))"
    ),
}
