"""Identifier normalization: the pure functions, and the dictionary they fill from raw tables."""

import random

import duckdb
import pyarrow as pa
import pytest

from klant.identity import dictionary as dictionary_module
from klant.identity import normalize as normalize_module
from klant.identity.dictionary import (
    default_phone_region,
    read_country_aliases,
    update_dictionary,
)
from klant.identity.normalize import Normalized, normalize_email, normalize_phone
from klant.ingest.loader import ensure_raw_schema


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (" Anna.deVries@Gmail.com ", "anna.devries@gmail.com"),
        ("PIET.BAKKER@KPNMAIL.NL", "piet.bakker@kpnmail.nl"),
        ("\tjan+shop@example.com\n", "jan+shop@example.com"),
        ("zoë.müller@web.de", "zoë.müller@web.de"),
    ],
)
def test_valid_emails_are_trimmed_and_lowercased(text, value):
    assert normalize_email(text) == Normalized(value, True)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("test@test", "should have a period"),
        ("a@b@c", "invalid characters: '@'"),
        ("anna.devries", "must have an @-sign"),
        ("anna devries@gmail.com", "invalid characters before the @-sign"),
        ("anna..devries@gmail.com", "two periods in a row"),
        ("anna@gmail..com", "two periods in a row"),
    ],
)
def test_invalid_emails_are_kept_with_a_reason(text, reason):
    result = normalize_email(text)
    assert result.value == text.strip().lower()  # kept on the record, flagged
    assert not result.is_valid
    assert result.reason.startswith("not an email address: ")
    assert reason in result.reason


# pieces of addresses: mostly plain ones, and some near the edges of what email-validator
# accepts: atext specials, dots in every place, quotes, angle brackets, spaces, non-ASCII, IDNA,
# special-use and numeric top-level domains, labels of 63/64 characters, hyphens at their ends
_LOCAL_PIECES = ["anna", "Jan", "x", "de.vries", "a+b", "0", "POSTMASTER"]
_LOCAL_EDGES = [
    "o'neil",
    "!#$%&*",
    "/=?^_`{|}~-",
    ".",
    "..",
    '"',
    '"q x"',
    "<",
    ">",
    " ",
    "\\",
    "zoë",
    "ü",
    "é",
    "(",
    ")",
    ",",
    ";",
    ":",
    "[",
    "]",
    "@",
    "l" * 64,
    "m" * 65,
    "-",
]
_DOMAIN_PIECES = ["example", "gmail", "Mail", "co", "uk", "com", "nl", "NL", "kpn-mail"]
_DOMAIN_EDGES = [
    "test",
    "local",
    "localhost",
    "invalid",
    "onion",
    "arpa",
    "123",
    "4",
    "xn--bcher-kva",
    "xn--zz",
    "bücher",
    "a" * 63,
    "b" * 64,
    "-x",
    "x-",
    "x--y",
    "_",
    ".",
    "",
    " ",
    "[127.0.0.1]",
    "<",
    "@",
]


def _piece(rng: random.Random, plain: list[str], edges: list[str]) -> str:
    return rng.choice(edges if rng.random() < 0.15 else plain)


def _generated_address(rng: random.Random) -> str:
    local = "".join(_piece(rng, _LOCAL_PIECES, _LOCAL_EDGES) for _ in range(rng.randint(1, 3)))
    labels = [_piece(rng, _DOMAIN_PIECES, _DOMAIN_EDGES) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.1:  # the whole address near 254 characters
        labels = ["d" * 60] * rng.randint(3, 4) + labels
    at = "@" if rng.random() < 0.9 else rng.choice(["", "@@", " @", "@ "])
    return local + at + ".".join(labels)


def test_plain_addresses_get_email_validators_own_result():
    """The cached fast path for plain ASCII addresses returns what the full check returns."""
    rng = random.Random(20261130)
    addresses = [_generated_address(rng) for _ in range(20_000)]
    counts = {"plain": 0, "valid": 0, "invalid": 0}
    for address in addresses:
        plain = normalize_module._plain_email(address.strip())
        checked = normalize_module._checked_email(address.strip())
        assert normalize_email(address) == checked, address
        if plain is not None:
            assert plain == checked, address
        counts["plain" if plain is not None else "valid" if checked.is_valid else "invalid"] += 1
    # each kind is well represented, so the comparison means something for each
    assert min(counts.values()) > 200, counts


@pytest.mark.parametrize("text", [None, "", "   ", "\t"])
def test_empty_identifiers_have_no_value(text):
    assert normalize_email(text) == Normalized(None, False, "empty")
    assert normalize_phone(text, "NL") == Normalized(None, False, "empty")


def test_email_check_does_no_network_look_up(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("normalize_email must not touch the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert normalize_email("someone@a-domain-that-does-not-exist-klant.nl").is_valid


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("06-12345678", "NL", "+31612345678"),
        ("06 1234 5678", "NL", "+31612345678"),
        ("+31 (0)6 1234 5678", "NL", "+31612345678"),
        ("+31 (0)6 1234 5678", "DE", "+31612345678"),  # a country code beats the region
        ("0031612345678", "NL", "+31612345678"),
        ("0031 6 12345678", "BE", "+31612345678"),
        ("31612345678", "NL", "+31612345678"),  # the region's own code without "+"
        ("(020) 123-4567", "NL", "+31201234567"),
        ("0470 12 34 56", "BE", "+32470123456"),
        ("0471/23.45.67", "BE", "+32471234567"),
        ("0151 23456789", "DE", "+4915123456789"),
        ("(0152) 9033 3467", "DE", "+4915290333467"),
        ("07858 823657", "GB", "+447858823657"),
        ("+44 (0)7858 823657", "GB", "+447858823657"),
        ("(415) 555-0134", "US", "+14155550134"),
        ("1-206-310-4335", "US", "+12063104335"),
        ("001 415 555 0134", "US", "+14155550134"),  # "00" where the US dials "011"
        ("0612345678 ext. 12", "NL", "+31612345678"),
        ("tel:+31612345678", "NL", "+31612345678"),
    ],
)
def test_valid_phones_become_e164(text, region, e164):
    assert normalize_phone(text, region) == Normalized(e164, True)


@pytest.mark.parametrize(
    ("text", "region", "value", "reason"),
    [
        ("0000000000", "NL", "+31000000000", "not a valid phone number for region NL"),
        ("12", "NL", "+3112", "not a valid phone number for region NL"),
        # Ofcom's range for drama: parses, but no one has that number
        ("07700 900123", "GB", "+447700900123", "not a valid phone number for region GB"),
        ("+447700900123", "NL", "+447700900123", "not a valid phone number for country code +44"),
        # another country's code without "+" or "00" is not guessed
        ("4915123456789", "NL", "+314915123456789", "not a valid phone number for region NL"),
        # a US number typed nationally on a record without a country
        ("415.747.4696", "NL", "+314157474696", "not a valid phone number for region NL"),
        ("n/a", "NL", None, "not a phone number: no phone number in the text"),
        ("0612345678", None, None, "not a phone number: unknown or missing country code"),
        ("0031", "NL", None, "not a phone number: too short after the international prefix"),
    ],
)
def test_invalid_phones_are_kept_with_a_reason(text, region, value, reason):
    assert normalize_phone(text, region) == Normalized(value, False, reason)


def test_default_phone_region_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("KLANT_DEFAULT_PHONE_REGION", raising=False)
    assert default_phone_region() == "NL"
    monkeypatch.setenv("KLANT_DEFAULT_PHONE_REGION", " be ")
    assert default_phone_region() == "BE"
    monkeypatch.setenv("KLANT_DEFAULT_PHONE_REGION", "Netherlands")
    with pytest.raises(ValueError, match="KLANT_DEFAULT_PHONE_REGION"):
        default_phone_region()


def test_country_aliases_map_names_and_codes():
    aliases = dict(read_country_aliases())
    assert aliases["Nederland"] == aliases["NL"] == "NL"
    assert aliases["UK"] == "GB"


def _insert(con, table: str, rows: list[dict[str, str | None]]) -> None:
    for row in rows:
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"insert into raw.{table} ({names}) values ({marks})", list(row.values()))


def _fill_raw(con: duckdb.DuckDBPyConnection) -> None:
    ensure_raw_schema(con)
    _insert(
        con,
        "crm_contacts",
        [
            {"record_id": "1", "email": " Anna@Example.com", "phone_number": "06-12345678",
             "country_region": " nederland "},
            {"record_id": "1", "email": " Anna@Example.com", "phone_number": "06-12345678",
             "country_region": "Nederland"},  # the same contact in a second export
            {"record_id": "2", "email": "piet@@bakker", "phone_number": "0470 12 34 56",
             "mobile_phone_number": "0000000000", "country_region": "België"},
            {"record_id": "3", "email": "   ", "phone_number": "0151 23456789",
             "country_region": "Atlantis"},
        ],
    )  # fmt: skip
    _insert(
        con,
        "shopify_orders",
        [
            {"name": "#1001", "email": "anna@example.com", "billing_country": "DE",
             "billing_phone": "0151 23456789", "shipping_phone": "0151 23456789",
             "phone": "+31 (0)6 1234 5678"},
            {"name": "#1001", "email": "anna@example.com"},  # a further line item
        ],
    )  # fmt: skip
    _insert(
        con,
        "web_events",
        [
            {"message_id": "m1", "type": "identify", "anonymous_id": "a1",
             "timestamp": "2026-03-05T13:00:00Z",
             "traits": '{"email": "ANNA@example.com ", "phone": "06 12345678"}'},
            {"message_id": "m2", "type": "track", "event": "Order Completed",
             "anonymous_id": "a1", "timestamp": "2026-03-05T13:05:00Z",
             "properties": '{"email": "test@test", "revenue": 10}'},
            {"message_id": "m3", "type": "page", "anonymous_id": "a2",
             "timestamp": "2026-03-05T13:06:00Z", "properties": '{"path": "/"}'},
            {"message_id": "m4", "type": "identify", "anonymous_id": "a3",
             "timestamp": "2026-03-05T13:07:00Z", "traits": "not JSON"},
        ],
    )  # fmt: skip


@pytest.fixture
def raw() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    _fill_raw(con)
    yield con
    con.close()


def _dictionary(con) -> dict[tuple[str, str, str], tuple]:
    rows = con.execute(
        "select identifier_type, raw_value, region, normalized_value, is_valid, invalid_reason "
        "from raw.identifier_dictionary"
    ).fetchall()
    return {r[:3]: r[3:] for r in rows}


def test_update_dictionary_normalizes_each_distinct_raw_value_once(raw):
    update = update_dictionary(raw, "NL")
    assert _dictionary(raw) == {
        ("email", " Anna@Example.com", ""): ("anna@example.com", True, None),
        ("email", "anna@example.com", ""): ("anna@example.com", True, None),
        ("email", "ANNA@example.com ", ""): ("anna@example.com", True, None),
        ("email", "piet@@bakker", ""): (
            "piet@@bakker",
            False,
            "not an email address: The part after the @-sign contains invalid characters: '@'.",
        ),
        ("email", "test@test", ""): (
            "test@test",
            False,
            "not an email address: The part after the @-sign is not valid. "
            "It should have a period.",
        ),
        # region hints: " nederland " and "België" through the aliases, "Atlantis" unknown
        ("phone", "06-12345678", "NL"): ("+31612345678", True, None),
        ("phone", "0470 12 34 56", "BE"): ("+32470123456", True, None),
        ("phone", "0000000000", "BE"): (
            "+32000000000",
            False,
            "not a valid phone number for region BE",
        ),
        ("phone", "0151 23456789", ""): (
            "+3115123456789",
            False,
            "not a valid phone number for region NL",
        ),
        ("phone", "0151 23456789", "DE"): ("+4915123456789", True, None),
        ("phone", "+31 (0)6 1234 5678", "DE"): ("+31612345678", True, None),
        ("phone", "06 12345678", ""): ("+31612345678", True, None),
    }
    assert update.added == {"email": 5, "phone": 7}
    assert update.added_invalid == {"email": 2, "phone": 2}
    assert update.invalid == {"email": 2, "phone": 2}
    assert update.row_count == 12


def test_a_second_update_adds_nothing_and_a_new_value_is_added_alone(raw):
    update_dictionary(raw, "NL")
    before = _dictionary(raw)
    again = update_dictionary(raw, "NL")
    assert again.added == {"email": 0, "phone": 0}
    assert again.row_count == len(before)
    assert _dictionary(raw) == before

    _insert(raw, "crm_contacts", [{"record_id": "4", "phone_number": "0612345678"}])
    third = update_dictionary(raw, "NL")
    assert third.added == {"email": 0, "phone": 1}
    assert _dictionary(raw)[("phone", "0612345678", "")] == ("+31612345678", True, None)


def test_values_are_normalized_in_chunks_with_the_same_result(raw, monkeypatch):
    from klant.identity import dictionary

    whole = duckdb.connect()
    _fill_raw(whole)
    update_dictionary(whole, "NL")
    monkeypatch.setattr(dictionary, "CHUNK_ROWS", 5)
    update = update_dictionary(raw, "NL")
    assert update.added == {"email": 5, "phone": 7}
    assert _dictionary(raw) == _dictionary(whole)


def test_values_normalized_by_worker_processes_come_out_the_same(raw, monkeypatch):
    from klant.identity import dictionary

    alone = duckdb.connect()
    _fill_raw(alone)
    update_dictionary(alone, "NL", workers=1)
    monkeypatch.setattr(dictionary, "PARALLEL_MIN_VALUES", 0)
    monkeypatch.setattr(dictionary, "CHUNK_ROWS", 5)  # several chunks, each in two parts
    spawned = []
    real_pool = dictionary._pool
    monkeypatch.setattr(dictionary, "_pool", lambda n: spawned.append(n) or real_pool(n))
    update = update_dictionary(raw, "NL", workers=2)
    assert spawned == [2]
    assert update.added == {"email": 5, "phone": 7}
    assert update.added_invalid == {"email": 2, "phone": 2}
    assert _dictionary(raw) == _dictionary(alone)


@pytest.mark.parametrize("configured", ["0", "two", "-1"])
def test_a_bad_worker_count_is_refused(monkeypatch, configured):
    from klant.identity.dictionary import normalize_workers

    monkeypatch.setenv("KLANT_NORMALIZE_WORKERS", configured)
    with pytest.raises(ValueError, match="KLANT_NORMALIZE_WORKERS"):
        normalize_workers()
    monkeypatch.setenv("KLANT_NORMALIZE_WORKERS", "3")
    assert normalize_workers() == 3


def test_plain_emails_added_by_sql_are_what_normalize_email_gives(monkeypatch):
    """The dictionary's SQL path for plain e-mails agrees with normalize_email on every value,
    plain or not, valid or not; only the others go through Python one by one."""
    one_by_one = []

    def recorded(text):
        one_by_one.append(text)
        return normalize_email(text)

    monkeypatch.setattr(dictionary_module, "normalize_email", recorded)
    rng = random.Random(20261201)
    addresses = sorted({_generated_address(rng) for _ in range(5_000)})
    addresses += [" padded@example.com", "UPPER@EXAMPLE.COM\t", "x" * 250 + "@ab.nl"]
    con = duckdb.connect()
    ensure_raw_schema(con)
    contacts = pa.table(  # noqa: F841 - read by the SQL below
        {"record_id": [str(i) for i in range(len(addresses))], "email": addresses}
    )
    con.execute("insert into raw.crm_contacts (record_id, email) select * from contacts")
    update_dictionary(con, "NL", workers=1)
    stored = _dictionary(con)
    kept = [a for a in addresses if a.strip()]
    assert len(stored) == len(kept)
    for address in kept:
        expected = normalize_email(address)
        assert stored[("email", address, "")] == (
            expected.value,
            expected.is_valid,
            expected.reason,
        ), address
    plain = [a for a in kept if normalize_module._plain_email(a) is not None]  # as stored
    assert len(plain) > 1_000 and len(kept) - len(plain) > 1_000
    assert sorted(one_by_one) == sorted(set(kept) - set(plain))


def test_the_default_region_reads_phones_without_a_hint(raw):
    update_dictionary(raw, "DE")
    entries = _dictionary(raw)
    assert entries[("phone", "0151 23456789", "")] == ("+4915123456789", True, None)
    # the same digits are a landline near Wiesbaden when read as German
    assert entries[("phone", "06 12345678", "")] == ("+49612345678", True, None)
    assert entries[("phone", "06-12345678", "NL")] == ("+31612345678", True, None)


def test_the_asset_updates_the_build_file_and_reports_counts(settings, monkeypatch):
    import dagster as dg

    from klant.identity.assets import identifier_dictionary
    from klant.resources import KlantConfig

    monkeypatch.setenv("KLANT_DEFAULT_PHONE_REGION", "NL")
    settings.build_db.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.build_db)) as con:
        ensure_raw_schema(con)
        _insert(con, "crm_contacts", [{"record_id": "1", "email": "x@y", "phone_number": "06"}])
    result = dg.materialize([identifier_dictionary], resources={"klant": KlantConfig.from_env()})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.asset_key == dg.AssetKey(["raw", "identifier_dictionary"])
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    assert metadata["new_emails"] == metadata["new_phones"] == 1
    assert metadata["invalid_emails"] == metadata["invalid_phones"] == 1
    assert metadata["dagster/row_count"] == 2
