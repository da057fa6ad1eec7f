"""HubSpot contacts of one person: a first contact, sometimes duplicates made by forms or sales."""

from __future__ import annotations

import random

from klant.sampledata import catalog, messy
from klant.sampledata.clock import ANCHOR_MS, WINDOW_START_MS, hubspot
from klant.sampledata.people import Person, active_time, address_line
from klant.sampledata.randomness import Weighted, chance
from klant.sampledata.sinks import CsvLine, Group, Line

CONTACTS_PER_PERSON = Weighted([(1, 0.70), (2, 0.22), (3, 0.08)])
ROLES = Weighted([("form", 0.45), ("sales", 0.35), ("import", 0.20)])
PROSPECT_STAGES = Weighted(
    [
        ("Subscriber", 0.40),
        ("Lead", 0.28),
        ("Marketing Qualified Lead", 0.12),
        ("Sales Qualified Lead", 0.08),
        ("Opportunity", 0.05),
        ("Other", 0.07),
    ]
)
CUSTOMER_STAGES = Weighted([("Customer", 0.85), ("Evangelist", 0.07), ("Opportunity", 0.08)])
LEAD_STATUSES = (
    "", "", "", "", "New", "Open", "In Progress", "Open Deal", "Unqualified",
    "Attempted to Contact", "Connected", "Bad Timing",
)  # fmt: skip
# Every MALFORMED_PERIOD-th contact overall (at these offsets) is written broken.
MALFORMED_PERIOD = 900
MALFORMED_AT = {150: "extra_field", 450: "bad_date", 750: "missing_fields"}
BAD_DATE = "31/02/2026 25:99"
DUPLICATE_ROW_SHARE = 0.012


class CrmState:
    """Counters that run across people: Record IDs and the malformed-row schedule."""

    def __init__(self) -> None:
        self.sequence = 0
        self.csv_line = CsvLine()


def _contact_fields(rng: random.Random, person: Person, role: str, company: str) -> list[str]:
    """The 16 fields after Record ID, before any junk or breakage."""
    has_phone = bool(person.phone_nsn)
    if role == "primary":
        with_email = not has_phone or chance(rng, 0.92)
        with_phone = has_phone and (not with_email or chance(rng, 0.7))
    elif role == "form":
        with_email, with_phone = True, has_phone and chance(rng, 0.1)
    elif role == "sales":
        with_phone = has_phone
        with_email = not has_phone or chance(rng, 0.6)
    else:
        with_email, with_phone = True, has_phone and chance(rng, 0.4)
    first = messy.name(rng, person.first_name)
    last = "" if role == "form" and chance(rng, 0.3) else messy.name(rng, person.last_name)
    if role == "import" and chance(rng, 0.2):
        last = last.upper()
    phone = mobile = ""
    if with_phone:
        spot = rng.random()
        if spot < 0.45:
            mobile = messy.phone(rng, person, 0.2)
        elif spot < 0.85:
            phone = messy.phone(rng, person, 0.2)
        else:
            phone, mobile = messy.phone(rng, person, 0.2), messy.phone(rng, person, 0.2)
    with_address = chance(rng, 0.5 if role == "primary" else 0.2)
    street = address_line(person) if with_address else ""
    business = role in ("primary", "sales") and company
    created = _created(rng, person, role)
    modified = created + int(rng.random() * (ANCHOR_MS - created))
    stages = CUSTOMER_STAGES if person.in_commerce else PROSPECT_STAGES
    opt_in = "true" if person.accepts_marketing else "false"
    return [
        first,
        last,
        messy.email(rng, person) if with_email else "",
        phone,
        mobile,
        company if business else "",
        rng.choice(catalog.JOB_TITLES) if business else "",
        street,
        person.city if with_address or chance(rng, 0.2) else "",
        person.postal_code if with_address else "",
        rng.choice(person.country.crm_labels),
        hubspot(created),
        hubspot(modified),
        stages.pick(rng),
        rng.choice(LEAD_STATUSES),
        opt_in if chance(rng, 0.9) else "",
    ]


def _created(rng: random.Random, person: Person, role: str) -> int:
    """When HubSpot created the contact (UTC ms)."""
    if role == "primary" and person.start_ms > WINDOW_START_MS:  # a newcomer signs up early
        return person.start_ms + int(rng.random() ** 3 * (person.end_ms - person.start_ms))
    return active_time(rng, person)


def crm_groups(rng: random.Random, person: Person, state: CrmState) -> list[Group]:
    """The contact rows of one person, each as its own group (duplicated rows stay adjacent)."""
    company = rng.choice(catalog.COMPANIES) if chance(rng, 0.12) else ""
    groups: list[Group] = []
    for number in range(CONTACTS_PER_PERSON.pick(rng)):
        role = "primary" if number == 0 else ROLES.pick(rng)
        state.sequence += 1
        record_id = str(30_101_000_000 + state.sequence * 97 + rng.randrange(97))
        fields = [record_id, *_contact_fields(rng, person, role, company)]
        flags: list[str] = []
        if fields[4] or fields[5]:
            if chance(rng, 0.02):
                fields[3] = messy.JUNK_EMAIL
                flags.append("junk_email")
        elif fields[3] and chance(rng, 0.015):
            fields[4] = messy.JUNK_PHONE
            flags.append("junk_phone")
        broken = MALFORMED_AT.get(state.sequence % MALFORMED_PERIOD)
        if broken == "bad_date":
            fields[12] = BAD_DATE
        elif broken == "extra_field":
            fields[6:7] = ["Groen", " Hout & Co"]  # an unquoted comma split the company name
        elif broken == "missing_fields":
            fields = fields[:13]  # the export stopped after Create Date
        if broken:
            flags.append("malformed")
        line: Line = (state.csv_line(fields), record_id, tuple(flags), None)
        lines = [line]
        if not broken and chance(rng, DUPLICATE_ROW_SHARE):
            lines.append((line[0], record_id, ("duplicate", *flags), None))
        groups.append(("crm", person.key, lines))
    return groups
