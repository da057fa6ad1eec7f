"""Shopify orders of one person, one CSV row per line item, as Shopify's export writes them."""

from __future__ import annotations

import random
from dataclasses import dataclass

from klant.sampledata import catalog, messy
from klant.sampledata.catalog import Product
from klant.sampledata.clock import ANCHOR_MS, DAY, HOUR, SECOND, shopify
from klant.sampledata.people import Person, active_time, address_line
from klant.sampledata.randomness import Weighted, chance
from klant.sampledata.sinks import CsvLine, Group, Line

ORDERS_PER_CUSTOMER = Weighted(
    [(1, 0.30), (2, 0.24), (3, 0.16), (4, 0.11), (5, 0.08), (6, 0.05), (8, 0.04), (12, 0.02)]
)
LINES_PER_ORDER = Weighted([(1, 0.45), (2, 0.30), (3, 0.15), (4, 0.07), (5, 0.03)])
QUANTITY = Weighted([(1, 0.80), (2, 0.15), (3, 0.03), (4, 0.02)])
FINANCIAL_STATUS = Weighted(
    [
        ("paid", 0.86),
        ("partially_refunded", 0.03),
        ("refunded", 0.04),
        ("pending", 0.04),
        ("voided", 0.03),
    ]
)
DISCOUNTS = {"WELKOM10": 10, "HERFST15": 15, "NIEUWSBRIEF5": -500, "BLACKFRIDAY20": 20}
SHIPPING_CENTS = {"NL": 495, "BE": 595, "DE": 695, "GB": 1495, "US": 1995}
FOREIGN_CURRENCY = {"GB": ("GBP", 86, 0.35), "US": ("USD", 108, 0.5)}  # rate per 100, share
# Every MALFORMED_PERIOD-th order overall (at this offset) gets the Total "12,O0".
MALFORMED_PERIOD = 900
MALFORMED_AT = 450
BAD_TOTAL = "12,O0"
DUPLICATE_ROW_SHARE = 0.008
GIFT_NAMES = ("Marijke Bosman", "Tom Verbeek", "Lisa Kaya", "Oma de Lange", "Familie Smeets")


@dataclass
class Order:
    """What the web events need to know about an order."""

    name: str
    created_ms: int
    currency: str
    total_cents: int
    items: list[tuple[Product, int, int]]  # product, quantity, unit price in cents


class CommerceState:
    """Counters that run across people: order numbers, Ids and the malformed-row schedule."""

    def __init__(self) -> None:
        self.sequence = 0
        self.csv_line = CsvLine()


def money(cents: int) -> str:
    """Shopify money: '59.90'."""
    return f"{cents // 100}.{cents % 100:02d}"


def _split(total: int, weights: list[int]) -> list[int]:
    """Split an amount over lines in proportion to weights, the rest on the last line."""
    whole = sum(weights) or 1
    parts = [total * weight // whole for weight in weights[:-1]]
    return [*parts, total - sum(parts)]


def _order_times(rng: random.Random, person: Person, count: int) -> list[int]:
    return sorted(active_time(rng, person) for _ in range(count))


def _items(rng: random.Random, rate: int) -> list[tuple[Product, int, int]]:
    products = rng.sample(catalog.PRODUCTS, LINES_PER_ORDER.pick(rng))
    return [(p, QUANTITY.pick(rng), p.price_cents * rate // 100) for p in products]


def _party(rng: random.Random, person: Person, company: str) -> list[str]:
    """Name, Street, Address1, Address2, Company, City, Zip, Province, Country of the buyer."""
    street = address_line(person)
    full = f"{street} {person.address2}".strip()
    name = f"{messy.name(rng, person.first_name)} {messy.name(rng, person.last_name)}"
    return [
        name, full, street, person.address2, company, person.city, person.postal_code,
        person.province if person.country.code == "US" else "", person.country.code,
    ]  # fmt: skip


@dataclass
class Amounts:
    """The money fields of one order, in cents of its currency."""

    gross: list[int]
    code: str
    discount: int
    subtotal: int
    shipping: int
    taxes: int
    total: int
    method: str


def _amounts(rng: random.Random, person: Person, items: list, rate: int) -> Amounts:
    """Line totals, discount, free shipping above 75 EUR, VAT included in the prices."""
    gross = [quantity * price for _, quantity, price in items]
    code = rng.choice(list(DISCOUNTS)) if chance(rng, 0.15) else ""
    percent = DISCOUNTS.get(code, 0)
    discount = min(-percent, sum(gross)) if percent < 0 else sum(gross) * percent // 100
    subtotal = sum(gross) - discount
    method = rng.choice(catalog.SHIPPING_METHODS[person.country.code])
    free = subtotal >= 7_500 * rate // 100 or method.startswith("Afhalen")
    shipping = 0 if free else SHIPPING_CENTS[person.country.code] * rate // 100
    total = subtotal + shipping
    vat = person.country.tax_percent
    taxes = (total * vat + (100 + vat) // 2) // (100 + vat)
    return Amounts(gross, code, discount, subtotal, shipping, taxes, total, method)


def _contact(rng: random.Random, person: Person) -> tuple[str, str, str, list[str]]:
    """Email, customer Phone and Billing Phone of an order, and the junk flags they carry."""
    flags: list[str] = []
    email = messy.email(rng, person)
    phone = messy.phone(rng, person, 0.5) if person.phone_nsn and chance(rng, 0.3) else ""
    billing_phone = messy.phone(rng, person, 0.6) if person.phone_nsn else ""
    if person.phone_nsn and chance(rng, 0.006):
        email, phone = messy.JUNK_EMAIL, phone or messy.phone(rng, person, 0.6)
        flags.append("junk_email")
    if chance(rng, 0.01):
        billing_phone = messy.JUNK_PHONE
        flags.append("junk_phone")
    return email, phone, billing_phone, flags


def _order_rows(
    rng: random.Random,
    person: Person,
    name: str,
    created: int,
    items: list[tuple[Product, int, int]],
    currency: str,
    rate: int,
    company: str,
    order_id: str,
    total_text: str | None,
) -> tuple[list[list[str]], list[str], Amounts]:
    """The CSV fields of every row of one order, its junk flags and its amounts."""
    amounts = _amounts(rng, person, items, rate)
    status = FINANCIAL_STATUS.pick(rng)
    paid = status in ("paid", "partially_refunded", "refunded")
    fulfilled = paid and created < ANCHOR_MS - 3 * DAY and chance(rng, 0.95)
    fulfilled_at = min(created + DAY + int(rng.random() * 2 * DAY), ANCHOR_MS - HOUR)
    cancelled_at = created + 3 * HOUR + int(rng.random() * DAY) if status == "voided" else 0
    refunds = {"refunded": amounts.total, "partially_refunded": amounts.gross[0]}
    email, phone, billing_phone, flags = _contact(rng, person)
    billing = _party(rng, person, company)
    shipping_party = list(billing)
    if chance(rng, 0.08):  # a gift, sent to someone else
        shipping_party[0] = rng.choice(GIFT_NAMES)
        shipping_party[1] = shipping_party[2] = f"{rng.choice(person.country.streets)} 7"
        shipping_party[3] = shipping_party[4] = ""
    country = person.country.code
    rows: list[list[str]] = []
    cuts = _split(amounts.discount, amounts.gross)
    for number, ((product, quantity, price), cut) in enumerate(zip(items, cuts, strict=True)):
        compare_at = product.compare_at_cents * rate // 100
        line = [
            str(quantity), product.name, money(price), money(compare_at) if compare_at else "",
            product.sku, "true", "true", "fulfilled" if fulfilled else "pending",
        ]  # fmt: skip
        if number:
            rows.append(
                [name, email, *[""] * 13, shopify(created), *line, *[""] * 24, product.vendor]
                + [order_id, "", "", "", money(cut), ""]
            )
            continue
        rows.append([
            name, email, status, shopify(created + 7 * SECOND) if paid else "",
            "fulfilled" if fulfilled else "unfulfilled",
            shopify(fulfilled_at) if fulfilled else "",
            "yes" if person.accepts_marketing else "no", currency, money(amounts.subtotal),
            money(amounts.shipping), money(amounts.taxes), total_text or money(amounts.total),
            amounts.code, money(amounts.discount), amounts.method, shopify(created), *line,
            *billing, billing_phone, *shipping_party,
            billing_phone if shipping_party[0] == billing[0] else "",
            rng.choice(catalog.ORDER_NOTES), shopify(cancelled_at) if cancelled_at else "",
            rng.choice(catalog.PAYMENT_METHODS[country]),
            money(min(refunds.get(status, 0), amounts.total)), product.vendor, order_id,
            rng.choice(("", "", "", "vip", "nieuwsbrief")),
            rng.choice(("Low",) * 8 + ("Medium", "High")),
            rng.choice(("web",) * 18 + ("shopify_draft_order", "pos")), money(cut), phone,
        ])  # fmt: skip
    return rows, flags, amounts


def order_groups(
    rng: random.Random, person: Person, state: CommerceState
) -> tuple[list[Group], list[Order]]:
    """The order rows of one customer, one group per order, and the orders for the web events."""
    country = person.country.code
    company = rng.choice(catalog.COMPANIES) if chance(rng, 0.05) else ""
    currency, rate = "EUR", 100
    if country in FOREIGN_CURRENCY and chance(rng, FOREIGN_CURRENCY[country][2]):
        currency, rate = FOREIGN_CURRENCY[country][0], FOREIGN_CURRENCY[country][1]
    groups: list[Group] = []
    orders: list[Order] = []
    for created in _order_times(rng, person, ORDERS_PER_CUSTOMER.pick(rng)):
        state.sequence += 1
        name = f"#{1000 + state.sequence}"
        order_id = str(5_620_000_000_000 + state.sequence * 1_009 + rng.randrange(1_009))
        items = _items(rng, rate)
        broken = state.sequence % MALFORMED_PERIOD == MALFORMED_AT
        rows, flags, amounts = _order_rows(
            rng, person, name, created, items, currency, rate, company, order_id,
            BAD_TOTAL if broken else None,
        )  # fmt: skip
        lines: list[Line] = [
            (state.csv_line(rows[0]), name, (*flags, "malformed") if broken else tuple(flags), None)
        ]
        item_flags = ("junk_email",) if "junk_email" in flags else ()
        lines += [(state.csv_line(row), name, item_flags, None) for row in rows[1:]]
        if not broken and chance(rng, DUPLICATE_ROW_SHARE):
            position = rng.randrange(len(lines))
            text, key, line_flags, _ = lines[position]
            lines.insert(position + 1, (text, key, ("duplicate", *line_flags), None))
        groups.append(("commerce", person.key, lines))
        orders.append(Order(name, created, currency, amounts.total, items))
    return groups, orders
