"""Segment events: sessions of page views and product events per device, identifies, orders.

Each device also carries the visitor's consent-banner answers (Segment Consent Management).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from klant.sampledata import catalog, messy
from klant.sampledata.catalog import Product
from klant.sampledata.clock import (
    ANCHOR_MS,
    HOUR,
    MINUTE,
    SECOND,
    iso_ms,
    iso_week,
    month_key,
)
from klant.sampledata.commerce import Order
from klant.sampledata.people import COUNTRY_PICK, Person
from klant.sampledata.randomness import Weighted, chance, rng_for, uuid_from
from klant.sampledata.sinks import Group

LIBRARY = {"name": "analytics.js", "version": "next-1.64.0"}
DEVICES = Weighted([(1, 0.68), (2, 0.25), (3, 0.07)])
EXTRA_DEVICES_BESIDE_TABLET = Weighted([(0, 0.4), (1, 0.4), (2, 0.2)])
DEVICE_KIND = Weighted([("desktop", 0.45), ("mobile", 0.45), ("tablet", 0.10)])
SESSIONS = Weighted([(1, 0.65), (2, 0.22), (3, 0.08), (5, 0.05)])
VISITOR_SESSIONS = Weighted([(1, 0.7), (2, 0.2), (3, 0.1)])
STEPS = Weighted([(0, 0.40), (1, 0.27), (2, 0.17), (3, 0.10), (5, 0.06)])
ACTIONS = Weighted(
    [
        ("collection", 0.28),
        ("product", 0.45),
        ("add", 0.13),
        ("cart", 0.05),
        ("checkout", 0.05),
        ("content", 0.04),
    ]
)
LANDING = Weighted([("home", 0.40), ("collection", 0.30), ("product", 0.25), ("content", 0.05)])
TRAFFIC = Weighted([(entry[1:], entry[0]) for entry in catalog.TRAFFIC])
IP_PREFIXES = ("192.0.2", "198.51.100", "203.0.113")
ORDER_EVENT_SHARE = 0.7
DUPLICATE_EVENT_SHARE = 0.005
# Every MALFORMED_PERIOD-th event overall (at these offsets) is written broken.
MALFORMED_PERIOD = 6_000
MALFORMED_AT = {1_500: "truncated", 4_500: "no_message_id"}
# Segment Consent Management: the share of devices whose visitor answers the banner before the
# first event, the share saying yes per category, and the share who later flip advertising.
CONSENT_ANSWERED_SHARE = 0.9
CONSENT_ADVERTISING_SHARE = 0.6
CONSENT_PERSONALIZATION_SHARE = 0.7
CONSENT_CHANGE_SHARE = 0.08
# A flip falls between the device's first session start and this long after its last one.
CONSENT_CHANGE_TAIL = 10 * MINUTE
Campaign = dict[str, str] | None


@dataclass
class Device:
    """One browser: its anonymousId and what it sends in every event's context."""

    anonymous_id: str
    agent: str
    ip: str
    locale: str
    shared: bool = False


@dataclass
class Consent:
    """A device's answers to the consent banner; advertising flips at changed_at, if set."""

    advertising: bool
    personalization: bool
    changed_at: int | None = None

    def context(self, at: int) -> dict[str, dict[str, bool]]:
        """context.consent of an event at `at` (epoch ms)."""
        advertising = self.advertising
        if self.changed_at is not None and at >= self.changed_at:
            advertising = not advertising
        preferences = {"advertising": advertising, "personalization": self.personalization}
        return {"categoryPreferences": preferences}


def device_consent(seed: int, owner: str, number: int, starts: list[int]) -> Consent | None:
    """The consent of device `number` of a person or visitor, or None if never answered.

    Drawn from a stream of its own, always with the same number of draws, so that consent
    changes no other byte of the exports. `starts` are the device's session starts.
    """
    rng = rng_for(seed, f"consent/{owner}", number)
    answered = chance(rng, CONSENT_ANSWERED_SHARE)
    advertising = chance(rng, CONSENT_ADVERTISING_SHARE)
    personalization = chance(rng, CONSENT_PERSONALIZATION_SHARE)
    changes, moment = chance(rng, CONSENT_CHANGE_SHARE), rng.random()
    if not answered:
        return None
    consent = Consent(advertising, personalization)
    if changes and starts:
        first, last = min(starts), max(starts) + CONSENT_CHANGE_TAIL
        consent.changed_at = first + int(moment * (last - first))
    return consent


class WebState:
    """Counters that run across people (the malformed-line schedule) and the JSON encoder."""

    def __init__(self) -> None:
        self.count = 0
        self.encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
        # the anonymousIds of the person or visitor generated last (the DMP feed keys on them)
        self.devices: list[str] = []


def _page(path: str, title: str, referrer: str, search: str = "") -> dict[str, str]:
    page = {"path": path, "referrer": referrer, "title": title}
    if search:
        page["search"] = search
    page["url"] = f"{catalog.SHOP_URL}{path}{search}"
    return page


def _product_page(product: Product, referrer: str, search: str = "") -> dict[str, str]:
    return _page(f"/products/{product.handle}", product.name, referrer, search)


def _item(product: Product, quantity: int, price_cents: int) -> dict[str, Any]:
    return {
        "product_id": product.product_id,
        "sku": product.sku,
        "price": price_cents / 100,
        "quantity": quantity,
    }


class Tracker:
    """Writes the events of one device, carrying analytics.js state (userId) between them."""

    def __init__(
        self,
        rng: random.Random,
        state: WebState,
        person_key: str,
        device: Device,
        consent: Consent | None = None,
    ) -> None:
        self.rng, self.state, self.person_key, self.device = rng, state, person_key, device
        self.consent = consent
        self.user_id: str | None = None
        self.groups: list[Group] = []
        self.flags: tuple[str, ...] = ("shared_device",) if device.shared else ()

    def _emit(
        self,
        at: int,
        body: dict[str, Any],
        page: dict[str, str],
        campaign: Campaign = None,
        flags: tuple[str, ...] = (),
    ) -> None:
        rng, device = self.rng, self.device
        context: dict[str, Any] = {
            "ip": device.ip,
            "library": LIBRARY,
            "locale": device.locale,
            "page": page,
            "userAgent": device.agent,
        }
        if campaign:
            context["campaign"] = campaign
        if self.consent is not None:
            context["consent"] = self.consent.context(at)
        message_id = uuid_from(rng)
        sent = at + rng.randrange(1_000)
        received = sent + 40 + rng.randrange(1_500)
        if chance(rng, 0.01):  # a phone that was offline for a while, but not past the export
            received = min(received + rng.randrange(12 * HOUR), max(ANCHOR_MS, received))
        event = {"messageId": message_id, **body, "anonymousId": device.anonymous_id}
        event.update(userId=self.user_id, context=context, timestamp=iso_ms(at))
        event.update(sentAt=iso_ms(sent), receivedAt=iso_ms(received), channel="client")
        flags = (*flags, *self.flags)
        self.state.count += 1
        broken = MALFORMED_AT.get(self.state.count % MALFORMED_PERIOD)
        sink = f"web:{month_key(at)}"
        if broken == "no_message_id":
            del event["messageId"]
            text = self.state.encoder.encode(event)
            self.groups.append((sink, self.person_key, [(text, "", (*flags, "malformed"), None)]))
            return
        text = self.state.encoder.encode(event)
        if broken == "truncated":
            text = text[: len(text) * (4 + rng.randrange(4)) // 10]
            self.groups.append(
                (sink, self.person_key, [(text, message_id, (*flags, "malformed"), None)])
            )
            return
        if not chance(rng, DUPLICATE_EVENT_SHARE):
            self.groups.append((sink, self.person_key, [(text, message_id, flags, None)]))
            return
        # Delivered twice (at least once delivery); the sink flags whichever is written second.
        self.groups.append((sink, self.person_key, [(text, message_id, flags, message_id)]))
        if chance(rng, 0.5):
            event["receivedAt"] = iso_ms(received + SECOND + rng.randrange(30 * SECOND))
            text = self.state.encoder.encode(event)
        self.groups.append((sink, self.person_key, [(text, message_id, flags, message_id)]))

    def page(self, at: int, name: str, page: dict[str, str], campaign: Campaign = None) -> None:
        """A page view (analytics.page())."""
        self._emit(at, {"type": "page", "name": name, "properties": page}, page, campaign)

    def track(
        self,
        at: int,
        event: str,
        properties: dict[str, Any],
        page: dict[str, str],
        campaign: Campaign = None,
    ) -> None:
        """A track event (analytics.track())."""
        self._emit(at, {"type": "track", "event": event, "properties": properties}, page, campaign)

    def identify(self, at: int, person: Person, page: dict[str, str]) -> None:
        """analytics.identify(userId, traits): from now on this device sends the userId."""
        rng = self.rng
        self.user_id = person.user_id
        traits: dict[str, str] = {"email": messy.email(rng, person)}
        flags: list[str] = []
        if chance(rng, 0.006):
            traits["email"] = messy.JUNK_EMAIL
            flags.append("junk_email")
        if chance(rng, 0.85):
            traits["firstName"] = messy.name(rng, person.first_name)
        if chance(rng, 0.7):
            traits["lastName"] = messy.name(rng, person.last_name)
        if person.phone_nsn and chance(rng, 0.4):
            traits["phone"] = messy.phone(rng, person, 0.3)
        if chance(rng, 0.003):
            traits["phone"] = messy.JUNK_PHONE
            flags.append("junk_phone")
        self._emit(at, {"type": "identify", "traits": traits}, page, None, tuple(flags))


def _landing(rng: random.Random, at: int) -> tuple[Campaign, str, str, str]:
    """Campaign, UTM query, referrer and landing kind of a new session."""
    source, medium, names, referrer = TRAFFIC.pick(rng)
    kind = LANDING.pick(rng)
    if not names:
        return None, "", referrer, "home" if not source and not medium else kind
    name = rng.choice(names)
    if name == "seasonal":
        name = catalog.SEASONAL_CAMPAIGNS[int(month_key(at)[5:])]
    elif name == "weekly":
        year, week = iso_week(at)
        name = f"weekly_{year}_{week:02d}"
    campaign = {"medium": medium, "name": name, "source": source}
    search = f"?utm_source={source}&utm_medium={medium}&utm_campaign={name}"
    return campaign, search, referrer, "home" if kind == "content" else kind


def _next(rng: random.Random, at: int) -> int:
    return at + 4 * SECOND + rng.randrange(150 * SECOND)


def browse(tracker: Tracker, start: int, identify_at: int | None, person: Person | None) -> None:
    """A browsing session; identify_at is the step after which the visitor logs in, or None."""
    rng, at = tracker.rng, start
    campaign, search, referrer, kind = _landing(rng, at)
    product: Product | None = None
    cart: list[Product] = []
    if kind == "product":
        product = rng.choice(catalog.PRODUCTS)
        page = _product_page(product, referrer, search)
        tracker.page(at, "Product", page, campaign)
    elif kind == "collection":
        slug = rng.choice(catalog.CATEGORY_SLUGS)
        page = _page(f"/collections/{slug}", catalog.CATEGORIES[slug][0], referrer, search)
        tracker.page(at, "Collection", page, campaign)
    elif kind == "content":
        path, title = rng.choice(catalog.CONTENT_PAGES)
        tracker.page(at, "Content", page := _page(path, title, referrer, search), campaign)
    else:
        tracker.page(at, "Home", page := _page("/", "Home", referrer, search), campaign)
    steps = STEPS.pick(rng)
    if identify_at is not None:
        identify_at = min(identify_at, steps)
    for step in range(steps + 1):
        if step == identify_at and person is not None:
            at = _next(rng, at)
            tracker.identify(at, person, page)
        if step == steps:
            break
        at = _next(rng, at)
        action, referrer = ACTIONS.pick(rng), page["url"]
        if action == "add" and product is not None:
            cart.append(product)
            properties = _product(product, 1)
            tracker.track(at, "Product Added", properties, page)
        elif action == "cart" and cart:
            page = _page("/cart", "Winkelwagen", referrer)
            items = [_item(p, 1, p.price_cents) for p in cart]
            tracker.track(at, "Cart Viewed", {"products": items}, page)
        elif action == "checkout" and cart:
            token = f"{rng.getrandbits(96):024x}"
            page = _page(f"/checkouts/cn/{token}", "Afrekenen", referrer)
            revenue = sum(p.price_cents for p in cart) / 100
            items = [_item(p, 1, p.price_cents) for p in cart]
            properties = {"currency": "EUR", "products": items, "revenue": revenue}
            tracker.track(at, "Checkout Started", properties, page)
        elif action == "collection":
            slug = rng.choice(catalog.CATEGORY_SLUGS)
            page = _page(f"/collections/{slug}", catalog.CATEGORIES[slug][0], referrer)
            tracker.page(at, "Collection", page)
        elif action == "content":
            if chance(rng, 0.5):
                term = rng.choice(catalog.SEARCH_TERMS)
                page = _page("/search", "Zoeken", referrer, f"?q={term}")
                tracker.page(at, "Search", page)
            else:
                path, title = rng.choice(catalog.CONTENT_PAGES)
                tracker.page(at, "Content", page := _page(path, title, referrer))
        else:
            product = rng.choice(catalog.PRODUCTS)
            page = _product_page(product, referrer)
            tracker.track(at, "Product Viewed", _product(product, 0), page)


def _product(product: Product, quantity: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "product_id": product.product_id,
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "price": product.price_cents / 100,
    }
    if quantity:
        properties["quantity"] = quantity
    return properties


def checkout(tracker: Tracker, order: Order, start: int, identify: bool, person: Person) -> None:
    """The session that ends in a Shopify order: adds, checkout, identify, Order Completed."""
    rng = tracker.rng
    campaign, search, referrer, _ = _landing(rng, start)
    first = order.items[0][0]
    page = _product_page(first, referrer, search)
    tracker.page(start, "Product", page, campaign)
    step = max((order.created_ms - start) // (len(order.items) + 2), SECOND)
    at = start
    for product, quantity, price in order.items:
        at += step
        page = _product_page(product, page["url"])
        if product is not first and chance(rng, 0.6):
            continue  # added to the cart in an earlier session
        properties = {**_product(product, quantity), "price": price / 100}
        tracker.track(at, "Product Added", properties, page)
    token = f"{rng.getrandbits(96):024x}"
    page = _page(f"/checkouts/cn/{token}", "Afrekenen", page["url"])
    items = [_item(*item) for item in order.items]
    revenue = order.total_cents / 100
    properties = {"currency": order.currency, "products": items, "revenue": revenue}
    tracker.track(at + step, "Checkout Started", properties, page)
    done = order.created_ms + SECOND + rng.randrange(20 * SECOND)
    if identify:
        tracker.identify(done - SECOND, person, page)
    properties = {
        "order_id": order.name,
        "email": messy.email(rng, person),
        "revenue": revenue,
        "currency": order.currency,
        "products": items,
    }
    thanks = _page(f"/checkouts/cn/{token}/thank-you", "Bedankt voor je bestelling", page["url"])
    tracker.track(done, "Order Completed", properties, thanks)


def _device(rng: random.Random, locales: tuple[str, ...], kind: str) -> Device:
    ip = f"{rng.choice(IP_PREFIXES)}.{1 + rng.randrange(254)}"
    agent = rng.choice(catalog.USER_AGENTS[kind])
    return Device(uuid_from(rng), agent, ip, rng.choice(locales))


def _session_starts(rng: random.Random, first: int, last: int, count: int) -> list[int]:
    return sorted(first + int(rng.random() * (last - first)) for _ in range(count))


def person_groups(
    rng: random.Random, person: Person, orders: list[Order], state: WebState
) -> list[Group]:
    """Every event of one person: anonymous browsing, identifies, checkouts, on 1-3 devices."""
    locales = person.country.locales
    devices: list[Device] = []
    if person.household is not None:
        shared = person.household
        tablet = Device(shared.shared_tablet or "", shared.tablet_agent, "", locales[0], True)
        tablet.ip = f"{rng.choice(IP_PREFIXES)}.{1 + rng.randrange(254)}"
        devices.append(tablet)
        count = EXTRA_DEVICES_BESIDE_TABLET.pick(rng)
    else:
        count = DEVICES.pick(rng)
    for _ in range(count):
        devices.append(_device(rng, locales, DEVICE_KIND.pick(rng)))
    # Per device: (start, order or None) of each session.
    sessions: list[list[tuple[int, Order | None]]] = []
    for _ in devices:
        starts = _session_starts(rng, person.start_ms, person.end_ms, SESSIONS.pick(rng))
        sessions.append([(start, None) for start in starts])
    for order in orders:
        if chance(rng, ORDER_EVENT_SHARE):
            start = order.created_ms - 3 * MINUTE - rng.randrange(20 * MINUTE)
            sessions[rng.randrange(len(devices))].append((start, order))
    groups: list[Group] = []
    for number, device in enumerate(devices):
        plan = sorted(sessions[number], key=lambda session: session[0])
        consent = device_consent(person.seed, person.key, number, [s for s, _ in plan])
        tracker = Tracker(rng, state, person.key, device, consent)
        first = 0 if number == 0 and chance(rng, 0.35) else rng.randrange(len(plan))
        first = min([first] + [k for k, (_, order) in enumerate(plan) if order is not None])
        for k, (start, order) in enumerate(plan):
            identify = device.shared or k == first or (k > first and chance(rng, 0.15))
            if order is not None:
                checkout(tracker, order, start, identify or chance(rng, 0.3), person)
            else:
                step = 0 if device.shared else rng.randrange(3)
                browse(tracker, start, step if identify else None, person)
        groups.extend(tracker.groups)
    state.devices = [device.anonymous_id for device in devices]
    return groups


def visitor_groups(seed: int, number: int, state: WebState) -> tuple[list[Group], list[str]]:
    """An anonymous visitor who never identifies: events plus the people.csv row."""
    rng = rng_for(seed, "visitor", number)
    key = f"v{number + 1:07d}"
    country = COUNTRY_PICK.pick(rng)
    device = _device(rng, country.locales, DEVICE_KIND.pick(rng))
    first = ANCHOR_MS - 3 * HOUR - int(rng.random() * 364 * 24 * HOUR)
    last = min(first + 14 * 24 * HOUR, ANCHOR_MS - 2 * HOUR)
    starts = _session_starts(rng, first, last, VISITOR_SESSIONS.pick(rng))
    tracker = Tracker(rng, state, key, device, device_consent(seed, key, 0, starts))
    for start in starts:
        browse(tracker, start, None, None)
    state.devices = [device.anonymous_id]
    row = [key, "visitor", "", "", "", "", country.code, "0", "0", "1"]
    return tracker.groups, row
