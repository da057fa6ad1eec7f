"""Consent end to end: activation is fail-closed (a member without a consent record is exported
nowhere), and a consent revoked on the web removes the person from the next export.

Identifiers are hashed here from the clear values in dim_profiles, dim_person_identifiers and
dim_visitors, not read from the activation marts, so the check is independent of the export.
"""

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from klant.definitions import build_definitions
from klant.settings import SAMPLE_AS_OF, Settings
from tests.conftest import clone_build

pytestmark = pytest.mark.slow

# the columns of each file format that hold a member's identifier (hash or cookie id)
IDENTIFIER_COLUMNS = ("Email", "Phone", "email", "phone", "email_sha256", "anonymous_id")
PURPOSES = ("email", "advertising", "personalization")
# the segment the revoking person is picked from: its membership depends on orders only, so a
# consent event cannot move anyone in or out of it
ORDER_SEGMENT = "repeat_customers"
DESTINATION = "google_customer_match"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def query(settings: Settings, sql: str, *params) -> list[tuple]:
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def identifiers_in(path: Path) -> set[str]:
    """Every identifier a destination file holds, whatever its format."""
    return {
        row[column] for row in read_rows(path) for column in IDENTIFIER_COLUMNS if row.get(column)
    }


@dataclass(frozen=True)
class Export:
    segment: str
    destination: str
    folder: Path
    manifest: dict


def latest_exports(settings: Settings) -> list[Export]:
    exports = []
    for link in sorted(settings.exports_dir.glob("*/*/latest")):
        folder = link.resolve()
        manifest = json.loads((folder / "manifest.json").read_text())
        exports.append(Export(link.parent.parent.name, link.parent.name, folder, manifest))
    return exports


@dataclass
class Profiles:
    """Per profile (person or visitor): its identifiers as an export writes them, its consents."""

    keys: dict[str, set[str]]
    consents: dict[str, dict[str, bool | None]]


def load_profiles(settings: Settings) -> Profiles:
    keys: dict[str, set[str]] = {}
    consents: dict[str, dict[str, bool | None]] = {}
    for person_id, email, phone, *stated in query(
        settings,
        "select person_id, email, phone, consent_email, consent_advertising, "
        "consent_personalization from dim_profiles",
    ):
        ids = keys.setdefault(person_id, set())
        if email:
            ids.add(sha256(email))
        if phone:
            ids |= {sha256(phone), sha256(phone.lstrip("+"))}
        consents[person_id] = dict(zip(PURPOSES, stated, strict=True))
    for person_id, anonymous_id in query(
        settings,
        "select person_id, identifier_value from dim_person_identifiers "
        "where identifier_type = 'anonymous_id'",
    ):
        keys.setdefault(person_id, set()).add(anonymous_id)
    for visitor_id, anonymous_id, advertising, personalization in query(
        settings,
        "select visitor_id, anonymous_id, consent_advertising, consent_personalization "
        "from dim_visitors",
    ):
        keys[visitor_id] = {anonymous_id}
        consents[visitor_id] = {
            "email": None, "advertising": advertising, "personalization": personalization,
        }  # fmt: skip
    return Profiles(keys, consents)


def segment_members(settings: Settings, segment: str) -> set[str]:
    return {p for (p,) in query(settings, f'select person_id from segments."{segment}"') if p}


def test_activation_is_fail_closed(sample_build: Settings):
    """Only an explicit yes is exported; members without any consent record are in their
    segment but in no export file for that purpose."""
    exports = latest_exports(sample_build)
    assert {e.manifest["consent_purpose"] for e in exports} == {"advertising"}
    profiles = load_profiles(sample_build)
    owners: dict[str, set[str]] = {}
    for profile_id, ids in profiles.keys.items():
        for value in ids:
            owners.setdefault(value, set()).add(profile_id)
    exported_by_purpose: dict[str, set[str]] = {}
    unstated_members: dict[str, set[str]] = {}
    exported_rows = 0
    for export in exports:
        purpose = export.manifest["consent_purpose"]
        members = segment_members(sample_build, export.segment)
        exported = identifiers_in(export.folder / "full.csv")
        exported_rows += len(read_rows(export.folder / "full.csv"))
        exported_by_purpose.setdefault(purpose, set()).update(exported)
        for value in exported:
            holders = owners.get(value, set()) & members
            assert holders, (export.segment, export.destination, value)
            refused = {p for p in holders if profiles.consents[p][purpose] is not True}
            assert not refused, (export.segment, export.destination, sorted(refused)[:3])
        without_yes = {p for p in members if profiles.consents[p][purpose] is not True}
        assert export.manifest["counts"]["excluded_without_consent"] == len(without_yes), export
        unstated_members.setdefault(purpose, set()).update(
            p for p in members if profiles.consents[p][purpose] is None and profiles.keys.get(p)
        )
    assert exported_rows > 0
    # people with no consent record for the purpose: members of a segment, in no file at all
    for purpose, unstated in unstated_members.items():
        assert unstated, purpose  # the sample has members who never answered the banner
        for person_id in unstated:
            assert not profiles.keys[person_id] & exported_by_purpose[purpose], person_id
    (changes,) = query(
        sample_build,
        "select count(*) from fct_consent_changes where profile_id in "
        f"({', '.join('?' * len(unstated_members['advertising']))}) "
        "and purpose = 'advertising'",
        *sorted(unstated_members["advertising"]),
    )[0]
    assert changes == 0  # and no consent history either


def _revocation_event(message_id: str, user_id: str, anonymous_id: str, at: datetime) -> dict:
    """Segment Consent Management's event for a visitor who turns advertising off."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "messageId": message_id,
        "type": "track",
        "event": "Segment Consent Preference Updated",
        "properties": {},
        "anonymousId": anonymous_id,
        "userId": user_id,
        "context": {
            "library": {"name": "analytics.js", "version": "next-1.64.0"},
            "consent": {"categoryPreferences": {"advertising": False}},
        },
        "timestamp": stamp,
        "sentAt": stamp,
        "receivedAt": stamp,
        "channel": "client",
    }


def test_a_revoked_consent_removes_the_person_from_the_next_export(
    sample_build: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    clone = clone_build(sample_build, tmp_path)
    as_of = datetime.fromisoformat(SAMPLE_AS_OF)
    first_build = query(clone, "select build_id from klant_build")[0][0]
    before = {(e.segment, e.destination): e for e in latest_exports(clone)}
    previous_full = identifiers_in(before[(ORDER_SEGMENT, DESTINATION)].folder / "full.csv")
    candidates = query(
        clone,
        f"""
        select p.person_id, p.email, u.identifier_value, a.identifier_value,
            greatest(p.web_last_seen_at, p.consent_advertising_updated_at)
        from dim_profiles as p
        inner join segments.{ORDER_SEGMENT} as s on s.person_id = p.person_id
        inner join dim_person_identifiers as u
            on u.person_id = p.person_id and u.identifier_type = 'user_id'
        inner join dim_person_identifiers as a
            on a.person_id = p.person_id and a.identifier_type = 'anonymous_id'
        where p.consent_advertising and p.email is not null and p.web_last_seen_at < ?
        order by p.person_id, u.identifier_value, a.identifier_value
        """,
        as_of - timedelta(days=1),
    )
    person_id, email, user_id, anonymous_id, last_at = next(
        c for c in candidates if sha256(c[1]) in previous_full
    )
    revoked_at = last_at.replace(microsecond=0) + timedelta(hours=1)
    assert revoked_at < as_of
    message_id = "consent-test-revocation-0001"
    event = _revocation_event(message_id, user_id, anonymous_id, revoked_at)
    landed = clone.landing_dir / "web" / "segment-events-2026-11-consent.jsonl"
    landed.write_text(json.dumps(event) + "\n", encoding="utf-8")
    person_keys = load_profiles(clone).keys[person_id]
    was_exported = {
        key: export.folder
        for key, export in before.items()
        if export.manifest["consent_purpose"] == "advertising"
        and person_keys & identifiers_in(export.folder / "full.csv")
    }
    assert (ORDER_SEGMENT, DESTINATION) in was_exported

    monkeypatch.setenv("KLANT_LANDING_DIR", str(clone.landing_dir))
    monkeypatch.setenv("KLANT_WAREHOUSE_DIR", str(clone.warehouse_dir))
    monkeypatch.delenv("KLANT_EXPORTS_DIR", raising=False)
    result = (
        build_definitions().resolve_job_def("klant_full").execute_in_process(raise_on_error=False)
    )
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]

    second_build = query(clone, "select build_id from klant_build")[0][0]
    assert second_build != first_build
    # still a member: it is the consent, not the segment, that takes the person out
    assert person_id in segment_members(clone, ORDER_SEGMENT)
    after = {(e.segment, e.destination): e for e in latest_exports(clone)}
    for key, old_folder in was_exported.items():
        export = after[key]
        assert export.manifest["build_id"] == second_build, key
        assert export.manifest["previous_build_id"] == first_build, key
        gone = person_keys & identifiers_in(old_folder / "full.csv")
        assert not person_keys & identifiers_in(export.folder / "full.csv"), key
        assert gone <= identifiers_in(export.folder / "removes.csv"), key
    removes = read_rows(after[(ORDER_SEGMENT, DESTINATION)].folder / "removes.csv")
    assert sha256(email) in {row["Email"] for row in removes}

    profile = query(
        clone,
        "select consent_advertising, consent_advertising_source, consent_advertising_updated_at "
        "from dim_profiles where person_id = ?",
        person_id,
    )
    assert profile == [(False, "web", revoked_at)]
    changes = query(
        clone,
        "select change_type, granted, previous_granted, changed_at, source, record_key, "
        "is_current from fct_consent_changes where profile_id = ? and purpose = 'advertising' "
        "order by change_number desc",
        person_id,
    )
    assert changes[0] == ("revoked", False, True, revoked_at, "web", message_id, True)
    assert all(not current for *_, current in changes[1:])
