"""Order traits and RFM on the sample, recomputed in pandas from the raw exports, person by person.

The pipeline runs once on a copy of the sample exports. Every trait is then computed again here,
straight from the Shopify CSVs (one row per line item) and the Segment JSONL files, without
reading any table the build made except int_records_resolved for the person of each order
(identity is tested elsewhere). The two must agree exactly, for every person and every trait.
"""

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from klant.settings import DBT_PROJECT_DIR, SAMPLE_AS_OF, Settings

pytestmark = pytest.mark.slow

# The table whose order-trait columns are compared; any table with these column names works
# (marts.dim_profiles carries the same ones, with rows for people without orders too).
TRAITS_TABLE = "marts.dim_profiles"
TRAIT_COLUMNS = (
    "order_count",
    "revenue_order_count",
    "revenue",
    "average_order_value",
    "first_order_at",
    "last_order_at",
    "days_since_last_order",
    "revenue_12m",
    "rfm_recency_score",
    "rfm_frequency_score",
    "rfm_monetary_score",
    "rfm_segment",
    "product_categories",
)

AS_OF = datetime.strptime(SAMPLE_AS_OF, "%Y-%m-%d %H:%M:%S")
CENT = Decimal("0.01")
SHOPIFY_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
# the columns klant's ingest checks before a row may load (a row failing one is quarantined)
SHOPIFY_TIMES = ("Created at", "Paid at", "Cancelled at")
SHOPIFY_AMOUNTS = (
    "Subtotal", "Shipping", "Taxes", "Total", "Discount Amount", "Refunded Amount",
    "Lineitem quantity", "Lineitem price",
)  # fmt: skip
SEGMENT_TYPES = {"identify", "track", "page", "screen", "group", "alias"}


def non_revenue_statuses() -> set[str]:
    """The financial statuses that never bear revenue, as the dbt project is configured."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    return set(project["vars"]["klant__non_revenue_financial_statuses"])


# The usual RFM grid: recency score -> the segment of frequency scores 1..5 (5 = best).
RFM_GRID = {
    1: ["Hibernating"] * 2 + ["At Risk"] * 2 + ["Cannot Lose Them"],
    2: ["Hibernating"] * 2 + ["At Risk"] * 2 + ["Cannot Lose Them"],
    3: ["About to Sleep"] * 2 + ["Need Attention"] + ["Loyal Customers"] * 2,
    4: ["Promising"] + ["Potential Loyalists"] * 2 + ["Loyal Customers"] * 2,
    5: ["New Customers"] + ["Potential Loyalists"] * 2 + ["Champions"] * 2,
}


def rfm_segment(recency: int, frequency: int) -> str:
    return RFM_GRID[recency][frequency - 1]


# --- the raw exports, read as klant's ingest and staging read them --------------------------


def text(value: str | None) -> str | None:
    """Trimmed text, None when empty."""
    if value is None:
        return None
    return value.strip() or None


def amount(value: str | None) -> Decimal | None:
    value = text(value)
    if value is None or not DECIMAL_TEXT.match(value):
        return None
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def shopify_utc(value: str | None) -> datetime | None:
    """'2026-09-27 13:27:23 +0200' (shop time with its offset) as a naive UTC datetime."""
    value = text(value)
    if value is None or not SHOPIFY_TIME.match(value):
        return None
    local = datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z")
    return local.astimezone(UTC).replace(tzinfo=None)


def shopify_row_loads(row: dict[str, str]) -> bool:
    """Whether ingest loads a Shopify row (name and creation time present, typed fields parse)."""
    if not (row["Name"] or "").strip() or not (row["Created at"] or "").strip():
        return False
    for column in SHOPIFY_TIMES:
        value = (row.get(column) or "").strip()
        if value:
            try:
                datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z")
            except ValueError:
                return False
    return all(
        DECIMAL_TEXT.match((row.get(c) or "").strip())
        for c in SHOPIFY_AMOUNTS
        if (row.get(c) or "").strip()
    )


def read_shopify_rows(landing: Path) -> pd.DataFrame:
    """Every loadable row of every commerce export, in load order (files by name, then line)."""
    rows = []
    for file_rank, path in enumerate(sorted((landing / "commerce").glob("*.csv"))):
        with path.open(newline="", encoding="utf-8-sig") as f:
            for row_number, row in enumerate(csv.DictReader(f)):
                # a row with too many or too few fields never loads
                if None in row or None in row.values() or not shopify_row_loads(row):
                    continue
                rows.append(
                    {
                        "file_rank": file_rank,
                        "row_number": row_number,
                        "order_name": row["Name"].strip(),
                        "has_order_fields": bool(row["Financial Status"] or row["Total"]),
                        "financial_status": (text(row["Financial Status"]) or "").lower() or None,
                        "total": amount(row["Total"]),
                        "refunded_amount": amount(row["Refunded Amount"]),
                        "created_at": shopify_utc(row["Created at"]),
                        "is_cancelled": shopify_utc(row["Cancelled at"]) is not None,
                        "sku": text(row["Lineitem sku"]),
                        "is_line": bool(text(row["Lineitem sku"]) or text(row["Lineitem name"])),
                    }
                )
    return pd.DataFrame(rows)


def read_orders(shopify: pd.DataFrame) -> pd.DataFrame:
    """One row per order: the header row of the latest export that has one, else the first row."""
    ranked = shopify.sort_values(
        ["order_name", "has_order_fields", "file_rank", "row_number"],
        ascending=[True, False, False, True],
    )
    orders = ranked.drop_duplicates("order_name").set_index("order_name")
    statuses = non_revenue_statuses()
    net = [
        (total or Decimal(0)) - (refunded or Decimal(0))
        for total, refunded in zip(orders["total"], orders["refunded_amount"], strict=True)
    ]
    orders["net_revenue"] = net
    orders["is_revenue_bearing"] = [
        not cancelled and status is not None and status not in statuses and value > 0
        for cancelled, status, value in zip(
            orders["is_cancelled"], orders["financial_status"], net, strict=True
        )
    ]
    return orders[["created_at", "net_revenue", "is_revenue_bearing"]]


def read_order_skus(shopify: pd.DataFrame) -> pd.DataFrame:
    """(order_name, sku) of every line, from the latest export that holds the order's lines."""
    lines = shopify[shopify["is_line"]]
    latest = lines.groupby("order_name")["file_rank"].transform("max")
    return lines.loc[lines["file_rank"] == latest, ["order_name", "sku"]]


def json_text(value: object) -> str | None:
    """A JSON value as SQL's json text extraction returns it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


def segment_loads(event: object) -> bool:
    """Whether ingest loads a Segment event (an object with id, known type, timestamp, visitor)."""
    if not isinstance(event, dict):
        return False
    message_id, kind, timestamp = (
        json_text(event.get(k)) for k in ("messageId", "type", "timestamp")
    )
    if not (message_id or "").strip() or (kind or "") not in SEGMENT_TYPES:
        return False
    try:
        if datetime.fromisoformat((timestamp or "").strip()).tzinfo is None:
            return False
    except ValueError:
        return False
    return any((json_text(event.get(k)) or "").strip() for k in ("anonymousId", "userId"))


def read_sku_categories(landing: Path) -> dict[str, str]:
    """sku -> the category most web events showed it with (ties: smallest by code point)."""
    seen: set[str] = set()
    counts: dict[tuple[str, str], int] = {}
    paths = {*(landing / "web").glob("*.jsonl"), *(landing / "web").glob("*.json")}
    for path in sorted(paths):
        with path.open(encoding="utf-8-sig") as f:
            for line in f:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if not segment_loads(event):
                    continue
                message_id = json_text(event["messageId"]).strip()
                if message_id in seen:  # a redelivered event counts once
                    continue
                seen.add(message_id)
                properties = event.get("properties")
                if not isinstance(properties, dict):
                    continue
                sku = text(json_text(properties.get("sku")))
                category = text(json_text(properties.get("category")))
                if sku and category:
                    counts[sku, category] = counts.get((sku, category), 0) + 1
    best: dict[str, tuple[int, str]] = {}
    for (sku, category), count in counts.items():
        if sku not in best or (-count, category) < (-best[sku][0], best[sku][1]):
            best[sku] = (count, category)
    return {sku: category for sku, (_, category) in best.items()}


# --- the traits, computed in pandas ---------------------------------------------------------


def expected_traits(landing: Path, order_persons: dict[str, str]) -> pd.DataFrame:
    """Every order trait of every person with an order, indexed by person_id."""
    shopify = read_shopify_rows(landing)
    orders = read_orders(shopify)
    orders["person_id"] = orders.index.map(order_persons)
    orders = orders[orders["person_id"].notna()]
    revenue_orders = orders[orders["is_revenue_bearing"]]
    window = (AS_OF - timedelta(days=365), AS_OF)

    traits = pd.DataFrame(index=sorted(orders["person_id"].unique()))
    traits["order_count"] = orders.groupby("person_id").size()
    traits["revenue_order_count"] = revenue_orders.groupby("person_id").size()
    traits["revenue_order_count"] = traits["revenue_order_count"].fillna(0).astype(int)
    traits["revenue"] = [
        sum(revenue_orders.loc[revenue_orders["person_id"] == p, "net_revenue"], Decimal("0.00"))
        for p in traits.index
    ]
    traits["average_order_value"] = [
        (revenue / count).quantize(CENT, rounding=ROUND_HALF_UP) if count else None
        for revenue, count in zip(traits["revenue"], traits["revenue_order_count"], strict=True)
    ]
    traits["first_order_at"] = orders.groupby("person_id")["created_at"].min()
    traits["last_order_at"] = orders.groupby("person_id")["created_at"].max()
    traits["days_since_last_order"] = [
        (AS_OF.date() - last.date()).days for last in traits["last_order_at"]
    ]
    in_window = revenue_orders[
        (revenue_orders["created_at"] >= window[0]) & (revenue_orders["created_at"] < window[1])
    ]
    traits["revenue_12m"] = [
        sum(in_window.loc[in_window["person_id"] == p, "net_revenue"], Decimal("0.00"))
        for p in traits.index
    ]

    # RFM over the n people with a revenue-bearing order; ties share the lowest rank
    buyers = traits[traits["revenue_order_count"] > 0]
    measures = pd.DataFrame(
        {
            "recency": revenue_orders.groupby("person_id")["created_at"].max(),
            "frequency": buyers["revenue_order_count"],
            "monetary": [int(value * 100) for value in buyers["revenue"]],
        },
        index=buyers.index,
    )
    n = len(measures)
    for name in ("recency", "frequency", "monetary"):
        rank = measures[name].rank(method="min").astype(int)
        traits[f"rfm_{name}_score"] = (1 + (5 * (rank - 1)) // n).astype("Int64")
    traits["rfm_segment"] = [
        rfm_segment(int(r), int(f)) if pd.notna(r) else None
        for r, f in zip(traits["rfm_recency_score"], traits["rfm_frequency_score"], strict=True)
    ]

    categories = read_sku_categories(landing)
    skus = read_order_skus(shopify)
    skus = skus[skus["order_name"].isin(revenue_orders.index)]
    skus = skus.assign(
        person_id=skus["order_name"].map(revenue_orders["person_id"]),
        category=[categories.get(sku, "Uncategorized") for sku in skus["sku"]],
    )
    traits["product_categories"] = skus.groupby("person_id")["category"].agg(
        lambda found: ", ".join(sorted(set(found)))
    )
    return traits.astype(object).where(traits.notna(), None)


def python_value(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


# --- the pipeline ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(sample_build: Settings) -> Settings:
    """The sample exports through the full job (once per session, shared read-only)."""
    return sample_build


@pytest.fixture(scope="module")
def compared(built: Settings) -> tuple[pd.DataFrame, dict[str, dict]]:
    """(expected traits from pandas, actual rows of TRAITS_TABLE by person_id)."""
    with duckdb.connect(str(built.build_db), read_only=True) as con:
        order_persons = dict(
            con.execute(
                "select record_key, person_id from intermediate.int_records_resolved "
                "where source = 'commerce' and person_id is not null"
            ).fetchall()
        )
        cursor = con.execute(f"select person_id, {', '.join(TRAIT_COLUMNS)} from {TRAITS_TABLE}")
        names = [d[0] for d in cursor.description]
        actual = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    return expected_traits(built.landing_dir, order_persons), actual


def test_every_order_trait_of_every_person_matches_pandas(compared):
    expected, actual = compared
    buyers = {p for p, row in actual.items() if row["order_count"]}
    assert buyers == set(expected.index), (
        sorted(buyers - set(expected.index))[:10],
        sorted(set(expected.index) - buyers)[:10],
    )
    # a table with every person (dim_profiles) holds no order traits for people without orders
    for person in set(actual) - buyers:
        assert actual[person]["rfm_segment"] is None, person

    mismatches = []
    for person, row in expected.iterrows():
        for column in TRAIT_COLUMNS:
            want, got = python_value(row[column]), actual[person][column]
            if want != got or type(want) is not type(got):
                mismatches.append((person, column, want, got))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:20]}"


def test_traits_cover_the_sample_and_every_segment(compared):
    expected, _ = compared
    scored = expected[expected["rfm_segment"].notna()]
    segments = scored["rfm_segment"].value_counts()
    print(f"persons with an order: {len(expected)}, with revenue: {len(scored)}")
    print(segments.to_string())
    assert len(expected) > 1000
    assert len(scored) > 0.9 * len(expected)
    assert set(segments.index) == {name for row in RFM_GRID.values() for name in row}
    # recency and monetary have few ties: each score holds about a fifth of the buyers
    for score in ("rfm_recency_score", "rfm_monetary_score"):
        shares = scored[score].value_counts(normalize=True)
        assert shares.between(0.19, 0.21).all(), (score, shares.to_dict())
    categories = expected["product_categories"].dropna()
    assert categories.str.contains(", ").any()
    assert not categories.str.contains("Uncategorized").all()
