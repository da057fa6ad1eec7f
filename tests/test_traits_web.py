"""Web traits, sessions and anonymous visitors checked against an independent recomputation.

The pipeline runs once on the sample exports. This module then reads the raw Segment files
itself (pandas, no SQL): well-formed lines with a messageId, the first delivery of each
messageId, UTM parameters from context.campaign, the device type from the user agent by a rule
of its own. Only who an event belongs to comes from the build (int_records_resolved): identity
is tested elsewhere. Every trait of every person and every visitor must come out the same.
"""

import json
import re
from dataclasses import dataclass
from datetime import timedelta

import duckdb
import pandas as pd
import pytest

from klant.sampledata import catalog
from klant.settings import SAMPLE_AS_OF, Settings
from tests.conftest import SEEDS

pytestmark = pytest.mark.slow

# Where the build keeps what is compared (the person traits will later also be read from
# marts.dim_profiles, which carries the same trait column names).
PERSON_TRAITS_TABLE = "marts.dim_profiles"
VISITORS_TABLE = "marts.dim_visitors"
RETENTION = timedelta(days=90)  # KLANT_VISITOR_RETENTION_DAYS
SESSIONS_TABLE = "intermediate.int_web_sessions"
RESOLVED_RECORDS_TABLE = "intermediate.int_records_resolved"

SESSION_TIMEOUT = timedelta(minutes=30)
VISITOR_PREFIX = "kv_"
PERSON_TRAITS = [
    "session_count",
    "page_view_count",
    "product_view_count",
    "cart_add_count",
    "last_cart_add_at",
    "web_first_seen_at",
    "web_last_seen_at",
    "first_touch_utm_source",
    "first_touch_utm_medium",
    "first_touch_utm_campaign",
    "last_touch_utm_source",
    "last_touch_utm_medium",
    "last_touch_utm_campaign",
    "preferred_device",
]
COUNT_TRAITS = ["session_count", "page_view_count", "product_view_count", "cart_add_count"]
VISITOR_TRAITS = [
    "anonymous_id",
    "first_seen_at",
    "last_seen_at",
    *COUNT_TRAITS,
    "last_cart_add_at",
    *(name for name in PERSON_TRAITS if "touch" in name),
    "preferred_device",
    "consent_advertising",
    "consent_advertising_updated_at",
    "consent_personalization",
    "consent_personalization_updated_at",
]
SESSION_COLUMNS = [
    "person_id",
    "visitor_id",
    "device_key",
    "started_at",
    "ended_at",
    "event_count",
    "page_view_count",
    "product_view_count",
    "cart_add_count",
]


@dataclass
class Build:
    settings: Settings

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.settings.build_db), read_only=True) as con:
            return con.execute(sql).df()


@pytest.fixture(scope="module")
def build(sample_build: Settings) -> Build:
    """The sample exports through the full job (once per session, shared read-only)."""
    return Build(sample_build)


# The independent recomputation


def device_type(user_agent: str | None) -> str | None:
    """Tablet, mobile or desktop, the way browser-detection libraries read a user agent."""
    if not user_agent:
        return None
    if re.search(r"iPad|Tablet|PlayBook|Silk", user_agent):
        return "tablet"
    if "Android" in user_agent:
        return "mobile" if "Mobile" in user_agent else "tablet"
    if re.search(r"iPhone|iPod|Mobi", user_agent):
        return "mobile"
    return "desktop"


def text(value: object) -> str | None:
    """A string field as the warehouse keeps it: trimmed, and blank means absent."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def read_events() -> pd.DataFrame:
    """Every well-formed event with a messageId, first delivery only, in the fields compared."""
    rows, seen = [], set()
    for path in sorted((SEEDS / "web").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            message_id = text(event.get("messageId")) if isinstance(event, dict) else None
            if message_id is None or message_id in seen:
                continue
            seen.add(message_id)
            context = event.get("context") or {}
            campaign = context.get("campaign") or {}
            consent = (context.get("consent") or {}).get("categoryPreferences") or {}
            rows.append(
                {
                    "message_id": message_id,
                    "anonymous_id": text(event.get("anonymousId")),
                    "user_id": text(event.get("userId")),
                    "type": event.get("type"),
                    "event": event.get("event"),
                    "event_at": event.get("timestamp"),
                    "utm_source": text(campaign.get("source")),
                    "utm_medium": text(campaign.get("medium")),
                    "utm_campaign": text(campaign.get("name")),
                    "device": device_type(text(context.get("userAgent"))),
                    "advertising": consent.get("advertising"),
                    "personalization": consent.get("personalization"),
                }
            )
    events = pd.DataFrame(rows)
    stamps = pd.to_datetime(events["event_at"], utc=True, format="ISO8601")
    events["event_at"] = stamps.dt.tz_localize(None)
    for category in ("advertising", "personalization"):
        events[category] = events[category].map(lambda v: v if isinstance(v, bool) else None)
    events["is_page"] = (events["type"] == "page").astype(int)
    events["is_product_view"] = (events["event"] == "Product Viewed").astype(int)
    events["is_cart_add"] = (events["event"] == "Product Added").astype(int)
    return events.sort_values(["event_at", "message_id"], kind="stable").reset_index(drop=True)


def sessions_of(events: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Visits: per profile and device, a new one after a gap of more than 30 minutes."""
    keys = [
        anonymous if pd.notna(anonymous) else f"user:{user}"
        for anonymous, user in zip(events["anonymous_id"], events["user_id"], strict=True)
    ]
    events = events.assign(device_key=keys)
    events = events.sort_values([profile, "device_key", "event_at", "message_id"])
    previous = events.groupby([profile, "device_key"])["event_at"].shift()
    starts = previous.isna() | (events["event_at"] - previous > SESSION_TIMEOUT)
    events["session_id"] = events["message_id"].where(starts).ffill()
    return events


def traits_of(events: pd.DataFrame, key: str) -> pd.DataFrame:
    """The web traits of each `key` (person_id or visitor_id) from its events."""
    events = sessions_of(events, key).sort_values([key, "event_at", "message_id"])
    by_owner = events.groupby(key)
    traits = pd.DataFrame(
        {
            "session_count": by_owner["session_id"].nunique(),
            "page_view_count": by_owner["is_page"].sum(),
            "product_view_count": by_owner["is_product_view"].sum(),
            "cart_add_count": by_owner["is_cart_add"].sum(),
            "first_seen_at": by_owner["event_at"].min(),
            "last_seen_at": by_owner["event_at"].max(),
        }
    )
    adds = events[events["event"] == "Product Added"]
    traits["last_cart_add_at"] = adds.groupby(key)["event_at"].max()
    # first and last touch: the earliest and the latest event with a utm_source
    touches = events[events["utm_source"].notna()]
    utm = ["utm_source", "utm_medium", "utm_campaign"]
    for name, keep in (("first_touch", "first"), ("last_touch", "last")):
        chosen = touches.drop_duplicates(key, keep=keep).set_index(key)[utm]
        traits = traits.join(chosen.add_prefix(f"{name}_"))
    # preferred device: most events, then most recently used, then alphabetical
    usage = events[events["device"].notna()].groupby([key, "device"])["event_at"]
    usage = usage.agg(["size", "max"]).reset_index()
    usage = usage.sort_values(
        [key, "size", "max", "device"], ascending=[True, False, False, True]
    ).drop_duplicates(key)
    traits["preferred_device"] = usage.set_index(key)["device"]
    # consent: the latest event that states the category
    for category in ("advertising", "personalization"):
        stated = events[events[category].notna()].drop_duplicates(key, keep="last")
        stated = stated.set_index(key)
        traits[f"consent_{category}"] = stated[category]
        traits[f"consent_{category}_updated_at"] = stated["event_at"]
    return traits


@pytest.fixture(scope="module")
def expected(build: Build) -> dict[str, pd.DataFrame]:
    """Persons' traits, visitors' traits and all visits, recomputed from the raw files."""
    events = read_events()
    owners = build.query(
        f"select record_key as message_id, person_id from {RESOLVED_RECORDS_TABLE} "
        "where source = 'web'"
    )
    events = events.merge(owners, on="message_id", how="left")
    resolved = events[events["person_id"].notna()]
    # A visitor: an anonymous_id none of whose events resolved to a person.
    known = set(resolved["anonymous_id"].dropna())
    anonymous = events[events["person_id"].isna() & events["anonymous_id"].notna()]
    anonymous = anonymous[~anonymous["anonymous_id"].isin(known)]
    # a visitor unseen for the retention period (90 days) has expired: it is in no table
    last_seen = anonymous.groupby("anonymous_id")["event_at"].transform("max")
    retained = last_seen >= pd.Timestamp(SAMPLE_AS_OF) - RETENTION
    expired_visitors = anonymous.loc[~retained, "anonymous_id"].nunique()
    anonymous = anonymous[retained]
    anonymous = anonymous.assign(visitor_id=VISITOR_PREFIX + anonymous["anonymous_id"])

    persons = traits_of(resolved, "person_id").rename(
        columns={"first_seen_at": "web_first_seen_at", "last_seen_at": "web_last_seen_at"}
    )
    visitors = traits_of(anonymous, "visitor_id")
    visitors["anonymous_id"] = visitors.index.str.removeprefix(VISITOR_PREFIX)

    visits = pd.concat([sessions_of(resolved, "person_id"), sessions_of(anonymous, "visitor_id")])
    visits = visits.groupby("session_id").agg(
        person_id=("person_id", "first"),
        visitor_id=("visitor_id", "first"),
        device_key=("device_key", "first"),
        started_at=("event_at", "min"),
        ended_at=("event_at", "max"),
        event_count=("message_id", "size"),
        page_view_count=("is_page", "sum"),
        product_view_count=("is_product_view", "sum"),
        cart_add_count=("is_cart_add", "sum"),
    )
    return {
        "persons": persons[PERSON_TRAITS],
        "visitors": visitors[VISITOR_TRAITS],
        "visits": visits,
        "expired_visitors": expired_visitors,
    }


# Comparison


def same(left: object, right: object) -> bool:
    if pd.isna(left) and pd.isna(right):
        return True
    if pd.isna(left) or pd.isna(right):
        return False
    return left == right


def mismatches(actual: pd.DataFrame, expected: pd.DataFrame, columns: list[str]) -> list[str]:
    """Every cell that differs, as 'key.column: actual != expected' (over the shared keys)."""
    found = []
    for key in expected.index.intersection(actual.index):
        for column in columns:
            got, want = actual.at[key, column], expected.at[key, column]
            if not same(got, want):
                found.append(f"{key}.{column}: {got!r} != {want!r}")
    return found


def test_every_persons_web_traits_match_the_raw_events(build: Build, expected) -> None:
    want = expected["persons"]
    got = build.query(f"select person_id, {', '.join(PERSON_TRAITS)} from {PERSON_TRAITS_TABLE}")
    got = got.set_index("person_id")
    assert got.index.is_unique
    assert set(want.index) <= set(got.index), "persons with web events missing"
    # A person of the table without web events (a wider table such as dim_profiles) has none.
    for person in got.index.difference(want.index):
        for column in PERSON_TRAITS:
            value = got.at[person, column]
            assert pd.isna(value) or (column in COUNT_TRAITS and value == 0), (person, column)
    wrong = mismatches(got, want, PERSON_TRAITS)
    assert not wrong, f"{len(wrong)} wrong traits, e.g. {wrong[:10]}"
    assert len(want) > 1000
    assert want["first_touch_utm_source"].notna().sum() > 500
    assert (want["first_touch_utm_campaign"] != want["last_touch_utm_campaign"]).sum() > 100


def test_every_anonymous_visitor_matches_the_raw_events(build: Build, expected) -> None:
    want = expected["visitors"]
    got = build.query(f"select visitor_id, {', '.join(VISITOR_TRAITS)} from {VISITORS_TABLE}")
    got = got.set_index("visitor_id")
    assert sorted(got.index) == sorted(want.index)
    wrong = mismatches(got, want, VISITOR_TRAITS)
    assert not wrong, f"{len(wrong)} wrong visitor traits, e.g. {wrong[:10]}"
    # the sample's visitors are the generator's anonymous visitors, and consent varies
    truth = pd.read_csv(SEEDS / "ground_truth" / "people.csv")
    assert len(want) + expected["expired_visitors"] == (truth["kind"] == "visitor").sum()
    assert expected["expired_visitors"] > 0 and len(want) > 100
    assert want["consent_advertising"].notna().mean() > 0.8
    assert want["consent_advertising"].isna().any()
    assert set(want["consent_advertising"].dropna()) == {True, False}


def test_every_visit_matches_the_raw_events(build: Build, expected) -> None:
    want = expected["visits"]
    got = build.query(f"select session_id, {', '.join(SESSION_COLUMNS)} from {SESSIONS_TABLE}")
    got = got.set_index("session_id")
    assert sorted(got.index) == sorted(want.index)
    wrong = mismatches(got, want, SESSION_COLUMNS)
    assert not wrong, f"{len(wrong)} wrong visits, e.g. {wrong[:10]}"


def test_the_device_rule_reads_every_sample_user_agent_right() -> None:
    for kind, agents in catalog.USER_AGENTS.items():
        for agent in agents:
            assert device_type(agent) == kind, agent
