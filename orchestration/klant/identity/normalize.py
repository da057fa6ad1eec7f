"""E-mail addresses and phone numbers to one canonical form, with email-validator and phonenumbers.

E-mail: trimmed, checked for syntax by email-validator (no DNS or other network look-up), and
lowercased whole: klant treats the local part as case-insensitive, as every large mailbox
provider does. An invalid address keeps its trimmed, lowercased text so the record still shows it.

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

import phonenumbers
from email_validator import EmailNotValidError, validate_email

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
