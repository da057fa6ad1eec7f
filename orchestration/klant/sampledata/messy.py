"""How people and systems mangle identifiers: e-mail casing and padding, phone formats, names."""

from __future__ import annotations

import random
import unicodedata

from klant.sampledata.people import Person

JUNK_EMAIL = "test@test.com"
JUNK_PHONE = "0000000000"

# National and international ways of writing one mobile number n (digits without country code).
PHONE_FORMATS = {
    "NL": (
        lambda n: f"0{n[0]}-{n[1:]}",
        lambda n: f"0{n}",
        lambda n: f"0{n[0]} {n[1:]}",
        lambda n: f"0{n[0]}-{n[1:5]} {n[5:]}",
        lambda n: f"+31 {n[0]} {n[1:]}",
        lambda n: f"+31{n}",
        lambda n: f"0031{n}",
        lambda n: f"+31 (0){n[0]} {n[1:5]} {n[5:]}",
        lambda n: f"31{n}",
    ),
    "BE": (
        lambda n: f"0{n[:3]} {n[3:5]} {n[5:7]} {n[7:]}",
        lambda n: f"0{n[:3]}/{n[3:5]}.{n[5:7]}.{n[7:]}",
        lambda n: f"0{n}",
        lambda n: f"+32 {n[:3]} {n[3:5]} {n[5:7]} {n[7:]}",
        lambda n: f"+32{n}",
        lambda n: f"0032{n}",
        lambda n: f"+32 (0){n[:3]} {n[3:5]} {n[5:7]} {n[7:]}",
    ),
    "DE": (
        lambda n: f"0{n[:3]} {n[3:]}",
        lambda n: f"0{n[:3]}-{n[3:]}",
        lambda n: f"(0{n[:3]}) {n[3:7]} {n[7:]}",
        lambda n: f"+49 {n[:3]} {n[3:]}",
        lambda n: f"+49{n}",
        lambda n: f"0049{n}",
        lambda n: f"+49 (0){n[:3]} {n[3:7]} {n[7:]}",
    ),
    "GB": (
        lambda n: f"0{n[:4]} {n[4:]}",
        lambda n: f"0{n}",
        lambda n: f"+44 {n[:4]} {n[4:]}",
        lambda n: f"+44{n}",
        lambda n: f"0044 {n[:4]} {n[4:]}",
        lambda n: f"+44 (0){n[:4]} {n[4:]}",
    ),
    "US": (
        lambda n: f"({n[:3]}) {n[3:6]}-{n[6:]}",
        lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}",
        lambda n: f"{n[:3]}.{n[3:6]}.{n[6:]}",
        lambda n: f"+1 {n[:3]}-{n[3:6]}-{n[6:]}",
        lambda n: f"+1 ({n[:3]}) {n[3:6]}-{n[6:]}",
        lambda n: f"+1{n}",
        lambda n: f"1-{n[:3]}-{n[3:6]}-{n[6:]}",
        lambda n: f"001 {n[:3]} {n[3:6]} {n[6:]}",
    ),
}


def email(rng: random.Random, person: Person) -> str:
    """The person's e-mail as some form or sales rep typed it."""
    draw = rng.random()
    if draw < 0.45:
        text = person.email
    elif draw < 0.72:
        text = person.email_mixed
    elif draw < 0.82:
        local, domain = person.email_mixed.split("@")
        text = f"{local}@{domain.capitalize()}"
    elif draw < 0.87:
        text = person.email.upper()
    else:
        text = person.email.capitalize()
    pad = rng.random()
    if pad < 0.04:
        return f" {text} "
    if pad < 0.08:
        return f"{text} "
    if pad < 0.10:
        return f"  {text}"
    return text


def phone(rng: random.Random, person: Person, e164_share: float = 0.0) -> str:
    """The person's mobile number in one of the ways people in their country write it."""
    if rng.random() < e164_share:
        return person.phone_e164
    return rng.choice(PHONE_FORMATS[person.country.code])(person.phone_nsn)


def strip_accents(text: str) -> str:
    """'Zoë Müller' -> 'Zoe Muller', as older systems store names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name(rng: random.Random, text: str) -> str:
    """A name as typed: mostly as is, sometimes lowercase, uppercase or without accents."""
    draw = rng.random()
    if draw < 0.82:
        return text
    if draw < 0.89:
        return text.lower()
    if draw < 0.93:
        return text.upper()
    return strip_accents(text)
