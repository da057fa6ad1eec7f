"""Sample exports: reproducible to the byte, true to their ground truth, in each source's format."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import klant.sampledata
from klant.sampledata import DEFAULT_PEOPLE, DEFAULT_SEED, catalog, dmp, generate, web
from klant.sampledata.__main__ import main
from klant.sampledata.people import EmailBook, transliterate

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS = REPO_ROOT / "seeds"
FOLDERS = ("crm", "web", "commerce", "dmp", "ground_truth")
CRM_FILE = "crm/hubspot-contacts-export-2026-11-28.csv"
COMMERCE_FILE = "commerce/orders_export_1.csv"

# The headers as CONTRACT.md states them, written out here so that drift in the code shows up.
HUBSPOT_HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
    "Company Name", "Job Title", "Street Address", "City", "Postal Code", "Country/Region",
    "Create Date", "Last Modified Date", "Lifecycle Stage", "Lead Status",
    "Marketing email opt-in",
]  # fmt: skip
SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
    "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street",
    "Billing Address1", "Billing Address2", "Billing Company", "Billing City", "Billing Zip",
    "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City",
    "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone", "Notes",
    "Cancelled at", "Payment Method", "Refunded Amount", "Vendor", "Id", "Tags", "Risk Level",
    "Source", "Lineitem discount", "Phone",
]  # fmt: skip
PEOPLE_HEADER = [
    "person_key", "kind", "first_name", "last_name", "email", "phone_e164", "country",
    "in_crm", "in_commerce", "in_web",
]  # fmt: skip
RECORDS_HEADER = ["source", "file", "line_number", "record_key", "person_key", "flags"]
SHOPIFY_ITEM_ROW_FIELDS = {"Name", "Email", "Created at", "Vendor", "Id"} | {
    name for name in SHOPIFY_HEADER if name.startswith("Lineitem")
}
TRACK_EVENTS = {
    "Product Viewed", "Product Added", "Cart Viewed", "Checkout Started", "Order Completed",
}  # fmt: skip
FLAGS = {"duplicate", "malformed", "junk_email", "junk_phone", "shared_device"}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HUBSPOT_DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
SHOPIFY_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[12]00$")
MONEY = re.compile(r"^\d+\.\d\d$")


def export_files(root: Path) -> list[str]:
    """Relative paths of every file the generator owns under root."""
    return sorted(
        path.relative_to(root).as_posix()
        for folder in FOLDERS
        for path in (root / folder).rglob("*")
        if path.is_file()
    )


def data_lines(root: Path, rel: str) -> list[str]:
    """The data lines of an export file (CSV header dropped), without line terminators."""
    lines = (root / rel).read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", f"{rel} does not end with a newline"
    return lines[1:-1] if rel.endswith(".csv") else lines[:-1]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh run at the default size and seed."""
    out = tmp_path_factory.mktemp("sample")
    generate(DEFAULT_PEOPLE, out, DEFAULT_SEED)
    return out


@pytest.fixture(scope="module")
def records(sample: Path) -> list[dict[str, str]]:
    return read_csv(sample / "ground_truth" / "records.csv")


@pytest.fixture(scope="module")
def people(sample: Path) -> dict[str, dict[str, str]]:
    return {row["person_key"]: row for row in read_csv(sample / "ground_truth" / "people.csv")}


@pytest.fixture(scope="module")
def events(sample: Path, records: list[dict[str, str]]) -> list[tuple[dict, dict[str, str]]]:
    """Every well-formed web event with its ground-truth record."""
    by_line = {(r["file"], int(r["line_number"])): r for r in records}
    parsed = []
    for rel in export_files(sample):
        if rel.startswith("web/"):
            for number, line in enumerate(data_lines(sample, rel), start=1):
                record = by_line[(rel, number)]
                if "malformed" not in record["flags"]:
                    parsed.append((json.loads(line), record))
    return parsed


# (1) committed data never drifts from the generator


def test_committed_seeds_are_exactly_what_the_generator_writes(sample: Path) -> None:
    assert export_files(SEEDS) == export_files(sample)
    for rel in export_files(sample):
        assert (SEEDS / rel).read_bytes() == (sample / rel).read_bytes(), rel


# (2) determinism


def test_same_seed_gives_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    counts = generate(200, first, seed=7)
    assert generate(200, second, seed=7) == counts
    generate(200, other, seed=8)
    files = export_files(first)
    assert files == export_files(second)
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    assert any(
        (other / rel).read_bytes() != (first / rel).read_bytes() for rel in export_files(other)
    )


def test_counts_returned_match_the_files(tmp_path: Path) -> None:
    counts = generate(120, tmp_path)
    assert set(counts) == set(export_files(tmp_path))
    for rel, count in counts.items():
        lines = (tmp_path / rel).read_text(encoding="utf-8").count("\n")
        assert count == lines - (1 if rel.endswith(".csv") else 0), rel


def test_cli_writes_the_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--people", "30", "--out", str(tmp_path), "--seed", "3"])
    assert "30 people, seed 3" in capsys.readouterr().out
    assert (tmp_path / CRM_FILE).exists() and (tmp_path / COMMERCE_FILE).exists()


def test_rejects_an_impossible_size(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(0, tmp_path)


# (3) ground truth


def test_email_addresses_stay_unique_past_one_round_of_name_combinations() -> None:
    firsts = {transliterate(n).lower() for c in catalog.COUNTRIES for n in c.first_names}
    lasts = {transliterate(n).lower() for c in catalog.COUNTRIES for n in c.last_names}
    assert not firsts & lasts, "e-mail patterns {f}.{l} and {l}.{f} must not collide"
    book, us = EmailBook(), catalog.US
    combos = len(us.first_names) * len(us.last_names) * 3 * len(us.domains)
    emails = [book.next(us)[2] for _ in range(2 * combos + 10)]
    assert len(set(emails)) == len(emails)
    assert any(re.search(r"\d@", email) for email in emails)


def test_every_data_line_is_in_the_ground_truth_once(
    sample: Path, records: list[dict[str, str]]
) -> None:
    assert list(records[0]) == RECORDS_HEADER
    seen = Counter((r["file"], int(r["line_number"])) for r in records)
    assert max(seen.values()) == 1
    expected = set()
    for rel in export_files(sample):
        if rel.startswith(("ground_truth/", "dmp/")):  # third-party files: no records of ours
            continue
        first = 2 if rel.endswith(".csv") else 1
        count = len(data_lines(sample, rel))
        expected |= {(rel, number) for number in range(first, first + count)}
    assert set(seen) == expected


def test_record_keys_match_the_lines(sample: Path, records: list[dict[str, str]]) -> None:
    lines = {rel: data_lines(sample, rel) for rel in export_files(sample)}
    for record in records:
        rel, number = record["file"], int(record["line_number"])
        offset = 2 if rel.endswith(".csv") else 1
        text = lines[rel][number - offset]
        source = {"crm": "crm/", "commerce": "commerce/", "web": "web/"}[record["source"]]
        assert rel.startswith(source)
        if rel.endswith(".csv"):
            assert next(csv.reader([text]))[0] == record["record_key"]
        elif "malformed" not in record["flags"]:
            assert json.loads(text)["messageId"] == record["record_key"]


def test_flags_all_occur_and_malformed_rows_are_a_handful(records: list[dict[str, str]]) -> None:
    flags: Counter[str] = Counter()
    malformed: Counter[str] = Counter()
    for record in records:
        for flag in filter(None, record["flags"].split(";")):
            assert flag in FLAGS
            flags[flag] += 1
            malformed[record["source"]] += flag == "malformed"
    assert set(flags) == FLAGS
    assert all(3 <= malformed[source] <= 8 for source in ("crm", "commerce", "web")), malformed


def test_people_and_presence(people: dict[str, dict[str, str]], records) -> None:
    assert list(next(iter(people.values()))) == PEOPLE_HEADER
    persons = [p for p in people.values() if p["kind"] == "person"]
    visitors = [p for p in people.values() if p["kind"] == "visitor"]
    assert len(persons) == DEFAULT_PEOPLE
    assert len(visitors) == DEFAULT_PEOPLE * 3 // 10
    assert {record["person_key"] for record in records} == set(people)
    sources: defaultdict[str, set[str]] = defaultdict(set)
    for record in records:
        sources[record["person_key"]].add(record["source"])
    combos = Counter()
    for key, person in people.items():
        present = {s for s in ("crm", "commerce", "web") if person[f"in_{s}"] == "1"}
        assert present == sources[key], key
        if person["kind"] == "person":
            combos[frozenset(present)] += 1
        else:
            assert present == {"web"}
    assert len(combos) == 7, combos
    assert len({p["email"] for p in persons}) == len(persons)
    phones = [p["phone_e164"] for p in persons if p["phone_e164"]]
    assert len(set(phones)) == len(phones) > DEFAULT_PEOPLE / 2
    assert all(re.fullmatch(r"\+\d{8,15}", phone) for phone in phones)
    assert all(p["email"] == p["email"].strip().lower() for p in persons)
    countries = Counter(p["country"] for p in persons)
    assert set(countries) == {"NL", "BE", "DE", "GB", "US"}
    assert countries["NL"] > DEFAULT_PEOPLE * 0.45
    names = "".join(p["first_name"] + p["last_name"] for p in persons)
    assert any(ch in names for ch in "ëüöéø")


def test_ratios_per_person(records: list[dict[str, str]]) -> None:
    per_source = Counter(record["source"] for record in records)
    orders = {r["record_key"] for r in records if r["source"] == "commerce"}
    assert 8 <= per_source["web"] / DEFAULT_PEOPLE <= 12
    assert 1.7 <= len(orders) / DEFAULT_PEOPLE <= 2.3
    assert 1.1 <= per_source["crm"] / DEFAULT_PEOPLE <= 1.3


def test_web_identity_story(events, people: dict[str, dict[str, str]]) -> None:
    users_per_device: defaultdict[str, set[str]] = defaultdict(set)
    devices_per_person: defaultdict[str, set[str]] = defaultdict(set)
    shared: set[str] = set()
    for event, record in events:
        devices_per_person[record["person_key"]].add(event["anonymousId"])
        if event["userId"] is not None:
            users_per_device[event["anonymousId"]].add(event["userId"])
        if "shared_device" in record["flags"]:
            shared.add(event["anonymousId"])
        if people[record["person_key"]]["kind"] == "visitor":
            assert event["userId"] is None and event["type"] != "identify"
    assert shared and all(len(users_per_device[device]) == 2 for device in shared)
    assert all(
        len(users) == 1 for device, users in users_per_device.items() if device not in shared
    )
    assert max(len(devices) for devices in devices_per_person.values()) >= 3
    # Some devices browse anonymously before they identify.
    anonymous_first = Counter()
    for event, _ in sorted(events, key=lambda pair: pair[0]["timestamp"]):
        device = event["anonymousId"]
        if device in users_per_device and device not in anonymous_first:
            anonymous_first[device] = event["userId"] is None
    assert sum(anonymous_first.values()) > len(anonymous_first) / 4


def test_order_completed_events_match_shop_orders(sample: Path, events, records) -> None:
    order_owner = {r["record_key"]: r["person_key"] for r in records if r["source"] == "commerce"}
    completed = [(e, r) for e, r in events if e.get("event") == "Order Completed"]
    assert len(completed) > len(order_owner) / 3
    for event, record in completed:
        assert order_owner[event["properties"]["order_id"]] == record["person_key"]
        person_email = event["properties"]["email"].strip().lower()
        assert "@" in person_email


def test_consent_is_answered_per_device_and_advertising_flips_at_most_once(events) -> None:
    timelines: defaultdict[tuple[str, str], list[tuple[str, dict | None]]] = defaultdict(list)
    for event, record in events:
        consent = event["context"].get("consent")
        preferences = None if consent is None else consent["categoryPreferences"]
        if preferences is not None:
            assert set(consent) == {"categoryPreferences"}
            assert set(preferences) == {"advertising", "personalization"}
            assert all(isinstance(value, bool) for value in preferences.values())
        timelines[(record["person_key"], event["anonymousId"])].append(
            (event["timestamp"], preferences)
        )
    answered, flipped = 0, 0
    for timeline in timelines.values():
        values = [preferences for _, preferences in sorted(timeline, key=lambda t: t[0])]
        if values[0] is None:
            assert all(value is None for value in values), "a device answers before its first event"
            continue
        answered += 1
        assert len({value["personalization"] for value in values}) == 1
        advertising = [value["advertising"] for value in values]
        changes = sum(a != b for a, b in zip(advertising, advertising[1:], strict=False))
        assert changes <= 1
        flipped += changes
    assert 0.85 <= answered / len(timelines) <= 0.95
    assert 0.02 <= flipped / answered <= 0.1
    visitors = [key for key in timelines if key[0].startswith("v")]
    assert any(timelines[key][0][1] is not None for key in visitors)


def test_consent_leaves_every_other_byte_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_consent, without = tmp_path / "with", tmp_path / "without"
    generate(150, with_consent, seed=11)
    monkeypatch.setattr(web, "CONSENT_ANSWERED_SHARE", 0.0)
    generate(150, without, seed=11)
    files = export_files(with_consent)
    assert files == export_files(without)
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    stripped = 0
    for rel in files:
        if not rel.startswith("web/"):
            assert (with_consent / rel).read_bytes() == (without / rel).read_bytes(), rel
            continue
        lines = zip(data_lines(with_consent, rel), data_lines(without, rel), strict=True)
        for line, plain in lines:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a truncated line, cut at the same share of a longer text
            stripped += event["context"].pop("consent", None) is not None
            assert encoder.encode(event) == plain
    assert stripped > 1000


def test_the_dmp_feed_leaves_every_other_byte_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_feed, without = tmp_path / "with", tmp_path / "without"
    generate(150, with_feed, seed=11)

    class NoFeed:
        def __init__(self, out_dir: Path, seed: int) -> None:
            pass

        def add_person(self, person, devices) -> None:
            pass

        def add_visitor(self, number, cookie) -> None:
            pass

        def close(self) -> dict[str, int]:
            return {}

    monkeypatch.setattr(klant.sampledata, "DmpWriter", NoFeed)
    generate(150, without, seed=11)
    files = export_files(without)
    assert files == [rel for rel in export_files(with_feed) if not rel.startswith("dmp/")]
    assert any(rel.startswith("dmp/") for rel in export_files(with_feed))
    for rel in files:
        assert (with_feed / rel).read_bytes() == (without / rel).read_bytes(), rel


def test_dmp_feed_keys_our_cookies_and_hashed_emails(
    sample: Path, events, people: dict[str, dict[str, str]]
) -> None:
    devices: dict[str, str] = {}  # anonymousId -> person or visitor
    for event, record in events:
        devices[event["anonymousId"]] = people[record["person_key"]]["kind"]
    hashes = {
        hashlib.sha256(p["email"].encode()).hexdigest() for p in people.values() if p["email"]
    }
    as_of = dmp.AS_OF.replace(tzinfo=None)
    keyed: Counter[str] = Counter()
    listed: set[str] = set()
    providers, codes, expired = set(), set(), 0
    files = [rel for rel in export_files(sample) if rel.startswith("dmp/")]
    assert len(files) == 3
    for rel in files:
        text = (sample / rel).read_text(encoding="utf-8")
        assert text.split("\n")[0] == ",".join(dmp.HEADER)
        for row in csv.DictReader(text.split("\n")[:-1]):
            cookie, hashed = row["cookie_id"], row["hashed_email"]
            assert bool(cookie) != bool(hashed)
            if cookie:
                keyed[devices.get(cookie, "stranger cookie")] += 1
                listed.add(cookie)
            else:
                assert re.fullmatch(r"[0-9a-f]{64}", hashed)
                keyed["email" if hashed in hashes else "stranger email"] += 1
            fetched = datetime.fromisoformat(row["fetched_at"])
            expires = datetime.fromisoformat(row["expires_at"])
            assert fetched.tzinfo is not None and expires.tzinfo is not None
            assert (
                fetched < expires
                and rel == f"dmp/{row['provider']}-audiences-{fetched:%Y-%m-%d}.csv"
            )
            expires = expires.astimezone(UTC).replace(tzinfo=None)
            if expires <= as_of:
                expired += 1
            else:
                assert as_of + timedelta(days=30) <= expires <= as_of + timedelta(days=91)
            assert row["audience_name"] == dmp.AUDIENCES[row["audience_code"]]
            providers.add(row["provider"])
            codes.add(row["audience_code"])
    assert providers == {"audiencehub", "datapoint"} and len(codes) >= 5
    total = sum(keyed.values())
    assert keyed["person"] > keyed["visitor"] > keyed["stranger cookie"] > 0, keyed
    assert keyed["email"] > keyed["stranger email"] > 0, keyed
    assert 0 < expired < total / 5
    # a share of the devices of persons and of visitors, not all of them
    for kind in ("person", "visitor"):
        ours = {device for device, owner in devices.items() if owner == kind}
        assert 0.05 < len(ours & listed) / len(ours) < 0.5, kind


def test_duplicate_events_repeat_a_message_id(events) -> None:
    deliveries = Counter(event["messageId"] for event, _ in events)
    duplicates = [event for event, record in events if "duplicate" in record["flags"]]
    assert duplicates and all(deliveries[event["messageId"]] == 2 for event in duplicates)


# (4) formats


def test_csv_headers_and_one_record_per_line(sample: Path) -> None:
    for rel, header in ((CRM_FILE, HUBSPOT_HEADER), (COMMERCE_FILE, SHOPIFY_HEADER)):
        text = (sample / rel).read_text(encoding="utf-8")
        rows = list(csv.reader(text.split("\n")[:-1]))
        assert rows[0] == header
        assert "\r" not in text
    people_text = (sample / "ground_truth" / "people.csv").read_text(encoding="utf-8")
    assert people_text.split("\n")[0] == ",".join(PEOPLE_HEADER)


def test_crm_rows(sample: Path, records: list[dict[str, str]]) -> None:
    flags = {int(r["line_number"]): r["flags"] for r in records if r["file"] == CRM_FILE}
    broken = Counter()
    for number, row in enumerate(csv.reader(data_lines(sample, CRM_FILE)), start=2):
        if "malformed" in flags[number]:
            if len(row) != len(HUBSPOT_HEADER):
                broken["field count"] += 1
            else:
                assert not HUBSPOT_DATE.match(row[12])
                broken["date"] += 1
            continue
        assert len(row) == len(HUBSPOT_HEADER)
        assert HUBSPOT_DATE.match(row[12]) and HUBSPOT_DATE.match(row[13])
        assert row[12] <= row[13] <= "2026-11-28 23:59"
        assert row[16] in ("true", "false", "")
        assert row[3] or row[4] or row[5]
    assert broken["field count"] >= 2 and broken["date"] >= 1


def test_shopify_rows(sample: Path, records: list[dict[str, str]]) -> None:
    flags = {int(r["line_number"]): r["flags"] for r in records if r["file"] == COMMERCE_FILE}
    previous = None
    for number, row in enumerate(csv.reader(data_lines(sample, COMMERCE_FILE)), start=2):
        assert len(row) == len(SHOPIFY_HEADER)
        fields = dict(zip(SHOPIFY_HEADER, row, strict=True))
        assert re.fullmatch(r"#\d{4,}", fields["Name"]) and re.fullmatch(r"\d{13}", fields["Id"])
        assert SHOPIFY_TIME.match(fields["Created at"])
        assert MONEY.match(fields["Lineitem price"])
        if fields["Financial Status"]:
            assert fields["Financial Status"] in (
                "paid", "partially_refunded", "refunded", "pending", "voided",
            )  # fmt: skip
            assert fields["Currency"] in ("EUR", "GBP", "USD")
            assert fields["Accepts Marketing"] in ("yes", "no")
            if "malformed" in flags[number]:
                assert fields["Total"] == "12,O0"
            else:
                assert MONEY.match(fields["Total"])
        else:
            assert previous == fields["Name"], "a line-item row follows its order's first row"
            extra = {k for k, v in fields.items() if v and k not in SHOPIFY_ITEM_ROW_FIELDS}
            assert not extra
        previous = fields["Name"]


def test_web_lines_follow_the_segment_spec(sample: Path, records: list[dict[str, str]]) -> None:
    flags = {(r["file"], int(r["line_number"])): r["flags"] for r in records}
    kinds = Counter()
    for rel in export_files(sample):
        if not rel.startswith("web/"):
            continue
        month = rel.removeprefix("web/segment-events-").removesuffix(".jsonl")
        for number, line in enumerate(data_lines(sample, rel), start=1):
            if "malformed" in flags[(rel, number)]:
                try:
                    assert "messageId" not in json.loads(line)
                    kinds["no messageId"] += 1
                except json.JSONDecodeError:
                    kinds["truncated"] += 1
                continue
            event = json.loads(line)
            assert event["type"] in ("identify", "track", "page")
            assert re.fullmatch(r"[0-9a-f-]{36}", event["messageId"])
            assert re.fullmatch(r"[0-9a-f-]{36}", event["anonymousId"])
            for key in ("timestamp", "sentAt", "receivedAt"):
                assert ISO_MS.match(event[key]), key
            assert event["timestamp"][:7] == month
            assert "2025-11-29" <= event["timestamp"] <= "2026-11-28T23:59:59.999Z"
            assert event["sentAt"] >= event["timestamp"] and event["receivedAt"] >= event["sentAt"]
            context = event["context"]
            assert {"ip", "library", "locale", "page", "userAgent"} <= set(context)
            assert {"path", "url", "title", "referrer"} <= set(context["page"])
            if "campaign" in context:
                assert set(context["campaign"]) == {"source", "medium", "name"}
                assert "utm_campaign=" in context["page"]["url"]
            if event["type"] == "identify":
                assert event["userId"] and "email" in event["traits"]
            elif event["type"] == "track":
                assert event["event"] in TRACK_EVENTS
                if event["event"] == "Order Completed":
                    assert {"order_id", "revenue", "currency", "email"} <= set(event["properties"])
            else:
                assert event["name"] and {"path", "url", "title", "referrer"} <= set(
                    event["properties"]
                )
            kinds[event["type"]] += 1
            kinds["campaign"] += "campaign" in context
    assert kinds["truncated"] and kinds["no messageId"]
    assert all(kinds[kind] for kind in ("identify", "track", "page", "campaign"))


def test_messy_identifiers_occur(sample: Path) -> None:
    crm = (sample / CRM_FILE).read_text(encoding="utf-8")
    assert re.search(r",\s+\S+@\S+\s*,", crm), "padded e-mails"
    assert re.search(r",[^,@]*[A-Z][^,@]*@", crm), "mixed-case e-mails"
    for phone in ("06-", "+31 6 ", "0031", "+31 (0)6 ", "+32 ", "+49 ", "+44 ", "+1 "):
        assert f",{phone}" in crm, phone
    assert "test@test.com" in crm and ",0000000000," in crm
