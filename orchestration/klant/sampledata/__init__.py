"""Deterministic sample exports of a fictional Dutch web shop, with their ground truth.

`generate(people, out_dir)` writes a HubSpot contacts export (crm/), Segment events per month
(web/), a Shopify orders export (commerce/), third-party audience files of two DMPs (dmp/) and
the truth about who is who (ground_truth/).
The same size and seed always give the same bytes; memory stays flat because
every person is generated from their own random stream and written through bounded buffers.
"""

from __future__ import annotations

from pathlib import Path

from klant.sampledata.commerce import CommerceState, Order, order_groups
from klant.sampledata.crm import CrmState, crm_groups
from klant.sampledata.dmp import DmpWriter
from klant.sampledata.people import EmailBook, Person, household_for, make_person
from klant.sampledata.sinks import ExportWriter, Group
from klant.sampledata.web import WebState, person_groups, visitor_groups

DEFAULT_SEED = 20261129
DEFAULT_PEOPLE = 2_000
MAX_PEOPLE = 8_000_000  # phone numbers stay unique per country up to here
VISITORS_PER_TEN_PEOPLE = 3

__all__ = ["DEFAULT_PEOPLE", "DEFAULT_SEED", "generate"]


def _truth_row(person: Person) -> list[str]:
    flags = (person.in_crm, person.in_commerce, person.in_web)
    return [
        person.key, "person", person.first_name, person.last_name, person.email,
        person.phone_e164, person.country.code, *("1" if flag else "0" for flag in flags),
    ]  # fmt: skip


def generate(people: int, out_dir: Path, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write the sample exports for `people` people (plus 30% anonymous visitors) into out_dir.

    Returns the number of data lines (header excluded) per written file, by relative path.
    """
    if not 1 <= people <= MAX_PEOPLE:
        raise ValueError(f"people must be between 1 and {MAX_PEOPLE}, got {people}")
    out_dir = Path(out_dir)
    writer, audiences = ExportWriter(out_dir, seed), DmpWriter(out_dir, seed)
    emails, crm, commerce, web = EmailBook(), CrmState(), CommerceState(), WebState()
    visitors = 0
    household = household_for(seed, 0)
    for index in range(people):
        if index % 2 == 0:
            household = household_for(seed, index)
        has_partner = index % 2 == 1 or index + 1 < people
        person, rng = make_person(seed, index, emails, household, has_partner)
        groups: list[Group] = []
        orders: list[Order] = []
        if person.in_crm:
            groups += crm_groups(rng, person, crm)
        if person.in_commerce:
            order_rows, orders = order_groups(rng, person, commerce)
            groups += order_rows
        if person.in_web:
            groups += person_groups(rng, person, orders, web)
        audiences.add_person(person, web.devices if person.in_web else [])
        writer.add(groups)
        writer.add_person(_truth_row(person))
        while visitors * 10 < (index + 1) * VISITORS_PER_TEN_PEOPLE:
            events, row = visitor_groups(seed, visitors, web)
            audiences.add_visitor(visitors, web.devices[0])
            writer.add(events)
            writer.add_person(row)
            visitors += 1
    counts = writer.close()
    counts.update(audiences.close())
    return dict(sorted(counts.items()))
