"""Who the fictional customers are: names, unique e-mails and phones, addresses, households."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from klant.sampledata import catalog
from klant.sampledata.catalog import Country
from klant.sampledata.clock import ANCHOR_MS, DAY, HOUR, WINDOW_START_MS
from klant.sampledata.randomness import Weighted, chance, permute, rng_for, uuid_from

COUNTRY_PICK = Weighted([(country, country.weight) for country in catalog.COUNTRIES])
COUNTRY_CALLING_CODES = {"NL": "31", "BE": "32", "DE": "49", "GB": "44", "US": "1"}
EMAIL_PATTERNS = ("{f}.{l}", "{f}_{l}", "{l}.{f}")
# Which sources a person appears in: (in_crm, in_commerce, in_web) -> share of people.
PRESENCE = Weighted(
    [
        ((True, True, True), 0.42),
        ((True, False, True), 0.17),
        ((True, True, False), 0.15),
        ((False, True, True), 0.07),
        ((True, False, False), 0.10),
        ((False, False, True), 0.05),
        ((False, True, False), 0.04),
    ]
)
SHARED_DEVICE_SHARE = 0.02
_SPECIAL = {"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "Ae", "ı": "i", "ł": "l", "œ": "oe"}


def transliterate(text: str) -> str:
    """ASCII letters of a name as people type it in an e-mail address ('de Vries' -> 'deVries')."""
    text = "".join(_SPECIAL.get(ch, ch) for ch in text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


@dataclass
class Household:
    """Two partners (people 2k and 2k+1) who may share a family tablet and an address."""

    shared_tablet: str | None = None
    tablet_agent: str = ""
    country: Country | None = None
    seed_address: int = 0


@dataclass
class Person:
    """One real customer as the ground truth knows them, with their canonical identifiers."""

    index: int
    key: str
    country: Country
    first_name: str
    last_name: str
    email: str
    email_mixed: str
    phone_e164: str
    phone_nsn: str
    street: str
    house_number: str
    address2: str
    postal_code: str
    city: str
    province: str
    start_ms: int
    end_ms: int
    in_crm: bool
    in_commerce: bool
    in_web: bool
    accepts_marketing: bool
    user_id: str
    seed: int  # the run's seed, for streams drawn apart from the person's own (consent)
    household: Household | None = None


class EmailBook:
    """Hands out e-mail addresses that are unique per person, with constant memory.

    Each country enumerates its (first name, last name, pattern, domain) combinations in a
    scrambled order; once they run out, a numeric suffix starts the next round.
    """

    def __init__(self) -> None:
        self.counters = {country.code: 0 for country in catalog.COUNTRIES}

    def next(self, country: Country) -> tuple[str, str, str, str]:
        """First name, last name, canonical e-mail and the same e-mail in mixed case."""
        firsts, lasts = country.first_names, country.last_names
        sizes = (len(firsts), len(lasts), len(EMAIL_PATTERNS), len(country.domains))
        combos = sizes[0] * sizes[1] * sizes[2] * sizes[3]
        number = self.counters[country.code]
        self.counters[country.code] = number + 1
        round_, position = divmod(number, combos)
        code = permute(position, combos, "email")
        code, first_i = divmod(code, sizes[0])
        code, last_i = divmod(code, sizes[1])
        domain_i, pattern_i = divmod(code, sizes[2])
        first, last = firsts[first_i], lasts[last_i]
        suffix = "" if round_ == 0 else str(round_ + 68 if round_ < 32 else round_ + 1968)
        pattern, domain = EMAIL_PATTERNS[pattern_i], country.domains[domain_i]
        mixed = pattern.format(f=transliterate(first), l=transliterate(last)) + suffix
        return first, last, f"{mixed.lower()}@{domain}", f"{mixed}@{domain}"


def phone_nsn(rng: random.Random, country: Country, index: int, city: catalog.City) -> str:
    """A mobile number without country code, unique per person index within its country."""
    if country.code == "NL":  # mobiles are 06-1 to 06-5: phonenumbers rejects the unassigned rest
        block, rest = divmod(permute(index, 5 * 10**7, "phone"), 10**7)
        return f"6{'12345'[block]}{rest:07d}"
    if country.code == "BE":
        return f"4{rng.choice('6789')}{permute(index, 10**7, 'phone'):07d}"
    if country.code == "DE":
        return f"15{rng.choice('1279')}{permute(index, 10**8, 'phone'):08d}"
    if country.code == "GB":  # 076 is for pagers, not mobiles; the draw stays the same
        second = rng.choice("456789").replace("6", "5")
        return f"7{second}{permute(index, 10**8, 'phone'):08d}"
    return f"{rng.choice(city.area_codes)}{2_000_000 + permute(index, 8_000_000, 'phone')}"


def postal_code(rng: random.Random, country: Country, city: catalog.City) -> str:
    """A plausible postal code of the city."""
    if country.code == "NL":
        letters = "ABCEGHJKLMNPRTVWXZ"
        suffix = rng.choice(letters) + rng.choice(letters)
        return f"{city.postal_prefix}{rng.randrange(100):02d} {suffix}"
    if country.code == "BE":
        return f"{city.postal_prefix}{rng.choice(('00', '00', '10', '18', '40', '50'))}"
    if country.code == "DE":
        return f"{city.postal_prefix}{rng.randrange(100, 1000)}"
    if country.code == "GB":
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        return (
            f"{city.postal_prefix} {rng.randrange(1, 10)}{rng.choice(letters)}{rng.choice(letters)}"
        )
    return f"{city.postal_prefix}{rng.randrange(1, 100):02d}"


def household_for(seed: int, index: int) -> Household:
    """The household of person `index`: partners 2k and 2k+1 sometimes share a tablet."""
    rng = rng_for(seed, "household", index // 2)
    if not chance(rng, SHARED_DEVICE_SHARE):
        return Household()
    tablet, agent = uuid_from(rng), rng.choice(catalog.USER_AGENTS["tablet"])
    return Household(tablet, agent, COUNTRY_PICK.pick(rng), rng.getrandbits(32))


def make_person(
    seed: int, index: int, emails: EmailBook, household: Household, paired: bool
) -> tuple[Person, random.Random]:
    """The person with this index and the random stream for the rest of their records."""
    rng = rng_for(seed, "person", index)
    shares = household.shared_tablet is not None and paired
    country = household.country if shares and household.country else COUNTRY_PICK.pick(rng)
    first_name, last_name, email, email_mixed = emails.next(country)
    # Partners living together share the address, drawn from the household's stream.
    place = random.Random(household.seed_address) if shares else rng
    city = place.choice(country.cities)
    number = str(place.randrange(1, 180)) + place.choice(("", "", "", "", "", "a", "b"))
    extra = {"NL": ("", "", "", "2 hoog", "huis"), "BE": ("", "", "", "bus 3", "bte 2")}
    address2 = place.choice(extra.get(country.code, ("", "", "", "Apt 4B", "Flat 2")))
    street, postcode = place.choice(country.streets), postal_code(place, country, city)
    nsn = phone_nsn(rng, country, index, city) if chance(rng, 0.8) else ""
    in_crm, in_commerce, in_web = PRESENCE.pick(rng)
    # Half were customers before the window opened, the rest arrive over the year: the shop grows.
    start = WINDOW_START_MS
    if chance(rng, 0.5):
        start += int(rng.random() * (ANCHOR_MS - 90 * DAY - WINDOW_START_MS))
    end = ANCHOR_MS - 2 * HOUR
    person = Person(
        index=index,
        key=f"p{index + 1:07d}",
        country=country,
        first_name=first_name,
        last_name=last_name,
        email=email,
        email_mixed=email_mixed,
        phone_e164=f"+{COUNTRY_CALLING_CODES[country.code]}{nsn}" if nsn else "",
        phone_nsn=nsn,
        street=street,
        house_number=number,
        address2=address2,
        postal_code=postcode,
        city=city.name,
        province=city.province,
        start_ms=start,
        end_ms=end,
        in_crm=in_crm,
        in_commerce=in_commerce,
        in_web=in_web or shares,
        accepts_marketing=chance(rng, 0.55),
        user_id=str(7_200_000_000_000 + permute(index, 10**12, "user_id")),
        seed=seed,
        household=household if shares else None,
    )
    return person, rng


def active_time(rng: random.Random, person: Person) -> int:
    """A random moment in the person's active period (epoch ms)."""
    return person.start_ms + int(rng.random() * (person.end_ms - person.start_ms))


def address_line(person: Person) -> str:
    """Street and house number in the country's order."""
    if person.country.number_first:
        return f"{person.house_number} {person.street}"
    return f"{person.street} {person.house_number}"
