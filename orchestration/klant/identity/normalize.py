"""E-mail addresses and phone numbers to one canonical form, with email-validator and phonenumbers.

E-mail: trimmed, checked for syntax by email-validator (no DNS or other network look-up), and
lowercased whole: klant treats the local part as case-insensitive, as every large mailbox
provider does. An invalid address keeps its trimmed, lowercased text so the record still shows it.
Most addresses are plain ASCII (one "@", a dot-atom before it, letters, digits, dots and hyphens
after it). For those only the domain goes through email-validator, once per distinct domain: the
part before the "@" needs nothing but the dot-atom pattern and the length limit, which is all
email-validator checks there. The result is email-validator's own (tests/test_normalize.py
compares the two on many generated addresses); any other text takes the full check.

Phone: parsed by phonenumbers with the region the record's country suggests (or the default
region) and valid only when phonenumbers knows the number as assigned (is_valid_number); the
value is E.164. What people type, and what klant makes of it:
- "06-12345678", "(020) 123-4567": national formats of the region.
- "+31 (0)6 1234 5678": the "(0)" trunk prefix after a country code is dropped (phonenumbers).
- "0031 6 12345678": "00" is the international prefix in most of the world. phonenumbers reads
  it so for regions that dial "00"; for the others (the US dials "011") a number that is not
  valid as typed is read once more as "+" and the rest ("001 415 555 0134" in the US).
- "31612345678" (the region's own calling code without "+" or "00"): phonenumbers drops the
  code when the rest is a valid national number, so this is +31612345678 in NL.
- "4915123456789" in NL (another country's code without "+" or "00"): not guessed, invalid. A
  bare digit string read as international would make many national typos into some other
  country's valid number, and a wrong link costs more than a missed one.
A number that parses but is not valid keeps its E.164 form as value and is flagged; text that
does not parse as a phone number at all has no value.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# A plain address, whole: an RFC 5322 dot-atom of ASCII atext (what email-validator accepts
# before the "@" as it is), one "@", and letters, digits, dots and hyphens. The pattern means
# the same to Python's re and to RE2 (DuckDB's regexp_full_match: the dictionary's SQL path).
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
PLAIN_EMAIL_PATTERN = rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@[A-Za-z0-9.-]+"
_PLAIN_EMAIL = re.compile(PLAIN_EMAIL_PATTERN)
EMAIL_MAX_LENGTH = 254  # email-validator's limit on the whole address, in UTF-8 bytes
_INTERNATIONAL_00 = re.compile(r"^00\s*(?=[1-9])")
_ParseError = phonenumbers.NumberParseException
_PARSE_ERRORS = {
    _ParseError.INVALID_COUNTRY_CODE: "unknown or missing country code",
    _ParseError.NOT_A_NUMBER: "no phone number in the text",
    _ParseError.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    _ParseError.TOO_SHORT_NSN: "too short",
    _ParseError.TOO_LONG: "too long",
}


@dataclass(frozen=True, slots=True)
class Normalized:
    """One identifier after normalization: its value, whether it may be used, and why not."""

    value: str | None
    is_valid: bool
    reason: str | None = None


EMPTY = Normalized(None, False, "empty")


def normalize_email(text: str | None) -> Normalized:
    """An e-mail address trimmed, syntax-checked without network look-ups and lowercased."""
    stripped = (text or "").strip()
    if not stripped:
        return EMPTY
    return _plain_email(stripped) or _checked_email(stripped)


def _plain_email(stripped: str) -> Normalized | None:
    """A plain ASCII address checked with its domain's cached result; None for any other text."""
    if len(stripped) > EMAIL_MAX_LENGTH or not _PLAIN_EMAIL.fullmatch(stripped):
        return None
    local, _, domain = stripped.partition("@")
    checked = checked_domain(domain)
    if checked is None:
        return None  # the full check says why
    normalized, length = checked
    if len(local) + 1 + length > EMAIL_MAX_LENGTH:
        return None
    return Normalized(local.lower() + "@" + normalized, True)


@lru_cache(maxsize=1 << 16)
def checked_domain(domain: str) -> tuple[str, int] | None:
    """A domain after the "@" of a plain address as email-validator gives it back, lowercased,
    and the longer of its UTF-8 and IDNA-ASCII lengths (the address's length limit counts
    both); None when email-validator refuses the domain."""
    try:
        checked = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.domain.lower(), max(len(checked.domain.encode()), len(checked.ascii_domain))


def _checked_email(stripped: str) -> Normalized:
    """The full check by email-validator, for any text."""
    try:
        checked = validate_email(stripped, check_deliverability=False)
    except EmailNotValidError as error:
        return Normalized(stripped.lower(), False, f"not an email address: {error}")
    return Normalized(checked.normalized.lower(), True)


def normalize_phone(text: str | None, region: str | None) -> Normalized:
    """A phone number in E.164, read with region (ISO-2) when it has no international prefix."""
    stripped = (text or "").strip()
    if not stripped:
        return EMPTY
    region = (region or "").upper() or None
    number, error = _parse(stripped, region)
    if number is not None and phonenumbers.is_valid_number(number):
        return Normalized(_e164(number), True)
    international = _INTERNATIONAL_00.match(stripped)
    if international:
        retried, _ = _parse("+" + stripped[international.end() :], None)
        if retried is not None and phonenumbers.is_valid_number(retried):
            return Normalized(_e164(retried), True)
    if number is None:
        return Normalized(None, False, f"not a phone number: {error}")
    if region and number.country_code == phonenumbers.country_code_for_region(region):
        return Normalized(_e164(number), False, f"not a valid phone number for region {region}")
    return Normalized(
        _e164(number), False, f"not a valid phone number for country code +{number.country_code}"
    )


def _parse(text: str, region: str | None) -> tuple[phonenumbers.PhoneNumber | None, str | None]:
    try:
        return phonenumbers.parse(text, region), None
    except _ParseError as error:
        return None, _PARSE_ERRORS.get(error.error_type, "unreadable")


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
