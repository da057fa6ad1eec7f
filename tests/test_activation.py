"""Activation exports: hashed identifiers only, consent respected, adds/removes per published build.

The exports read a small synthetic published store (the contract's tables and a klant_build row)
and run as real Dagster materializations; no pipeline run is needed.
"""

import csv
import hashlib
import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import jinja2
import pytest
import yaml

from klant.activation import build_activation_assets
from klant.activation.destinations import (
    Destination,
    Segment,
    UnknownDestination,
    load_destinations,
    resolve,
    seed_path,
)
from klant.activation.exports import (
    ExportError,
    Member,
    looks_like_email_or_phone,
    plan_rows,
    write_export,
)
from klant.identity.normalize import normalize_email, normalize_phone
from klant.resources import KlantConfig
from klant.settings import DBT_PROJECT_DIR, Settings

VECTOR_INPUT = " Person@Example.com "
VECTOR_SHA256 = "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345"
MACRO = DBT_PROJECT_DIR / "macros" / "hash_sha256.sql"
SEGMENT = "test_segment"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def macro_sql(adapter: str, expression: str) -> str:
    """The SQL the hash_sha256 macro emits for one adapter (its dispatched implementation)."""
    module = jinja2.Environment().from_string(MACRO.read_text()).module
    return str(getattr(module, f"{adapter}__hash_sha256")(expression)).strip()


# --- the test vector --------------------------------------------------------------------------


def test_the_test_vector_through_python_normalization():
    assert sha256(normalize_email(VECTOR_INPUT).value) == VECTOR_SHA256


def test_the_test_vector_through_the_macro_on_duckdb():
    sql = macro_sql("duckdb", "lower(trim(?))")
    got = duckdb.connect().execute(f"select {sql}, {macro_sql('duckdb', 'null')}", [VECTOR_INPUT])
    assert got.fetchone() == (VECTOR_SHA256, None)


@pytest.mark.postgres
def test_the_test_vector_through_the_macro_on_postgres(postgres_available):
    import psycopg2

    sql = macro_sql("default", "lower(trim(%s))")
    with psycopg2.connect(postgres_available) as con, con.cursor() as cursor:
        cursor.execute(f"select {sql}, {macro_sql('default', 'null::text')}", [VECTOR_INPUT])
        assert cursor.fetchone() == (VECTOR_SHA256, None)


# --- a synthetic published store ---------------------------------------------------------------

EMAILS = {"kp_1": " Person@Example.com ", "kp_2": "two@example.com", "kp_4": "four@example.com"}
EMAILS |= {"kp_5": "five@example.com", "kp_9": "nine@example.com"}
PHONES = {"kp_1": "06 12345678", "kp_3": "+31 6 33333333", "kp_4": "0644444444"}
# person_id: profile type, consent_email, consent_advertising, consent_personalization
PROFILES = {
    "kp_1": ("person", True, True, None),
    "kp_2": ("person", None, True, True),
    "kp_3": ("person", False, True, False),
    "kp_4": ("person", True, False, True),  # said no to advertising
    "kp_5": ("person", True, None, True),  # never said
    "kp_6": ("person", None, True, None),  # consents, but no e-mail or phone
    "kp_9": ("person", True, True, True),  # not in the segment
    "kv_7": ("visitor", None, True, None),
}
DEVICES = [("kp_1", "a-1"), ("kp_1", "a-2"), ("kp_6", "a-6"), ("kv_7", "a-7"), ("kp_9", "a-9")]
MEMBERS = ["kp_1", "kp_2", "kp_3", "kp_4", "kp_5", "kp_6", "kv_7", "kp_8"]  # kp_8: unknown
RAW = [text.strip() for text in EMAILS.values()] + [
    normalize_email(e).value for e in EMAILS.values()
]
RAW += [normalize_phone(p, "NL").value for p in PHONES.values()]
RAW += [normalize_phone(p, "NL").value.lstrip("+") for p in PHONES.values()]


def identifier_rows(profiles: dict = PROFILES) -> list[tuple]:
    """activation_identifiers rows as the mart makes them: only hashes of normalized values."""
    rows = []
    for person_id, (profile_type, *consents) in profiles.items():
        email = normalize_email(EMAILS.get(person_id)).value
        phone = normalize_phone(PHONES.get(person_id), "NL").value
        rows.append(
            (
                person_id,
                profile_type,
                sha256(email) if email else None,
                sha256(phone) if phone else None,
                sha256(phone.lstrip("+")) if phone else None,
                "NL" if profile_type == "person" else None,
                *consents,
            )
        )
    return rows


def publish_synthetic(
    settings: Settings,
    build_id: str,
    members: list[str] = MEMBERS,
    profiles: dict = PROFILES,
    devices: list[tuple[str, str]] = DEVICES,
) -> None:
    """A published snapshot with the contract's tables, made the one readers open."""
    builds = settings.published_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    path = builds / f"{build_id}.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """
        create table activation_identifiers (
            person_id varchar, profile_type varchar, email_sha256 varchar, phone_sha256 varchar,
            phone_digits_sha256 varchar, country varchar, consent_email boolean,
            consent_advertising boolean, consent_personalization boolean
        );
        create table activation_device_ids (person_id varchar, anonymous_id varchar);
        create table klant_build (
            build_id varchar, run_id varchar, published_at timestamp, row_counts varchar,
            checks varchar
        );
        create schema segments;
        """
    )
    con.executemany(
        "insert into activation_identifiers values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        identifier_rows(profiles),
    )
    con.executemany("insert into activation_device_ids values (?, ?)", devices)
    con.execute(f"create table segments.{SEGMENT} (person_id varchar, reason integer)")
    con.executemany(f"insert into segments.{SEGMENT} values (?, 1)", [[m] for m in members])
    con.execute("insert into klant_build values (?, 'run', now(), '{}', '[]')", [build_id])
    con.close()
    point_readers_at(settings, build_id)


def point_readers_at(settings: Settings, build_id: str) -> None:
    """Swap the published symlink, as publication and rollback do."""
    link = settings.published_db
    tmp = link.with_name(".klant.duckdb.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(f"builds/{build_id}.duckdb", tmp)
    os.replace(tmp, link)


def segment_node(name: str, destinations: list[str] | None) -> dict:
    meta = {"destinations": destinations} if destinations is not None else {}
    return {
        "resource_type": "model",
        "name": name,
        "alias": name,
        "schema": "segments",
        "tags": ["published", "segment"],
        "config": {"meta": meta},
        "patch_path": "klant://models/segments/_segments__models.yml",
    }


def manifest_with(destinations: list[str]) -> dict:
    return {
        "nodes": {
            f"model.klant.{SEGMENT}": segment_node(SEGMENT, destinations),
            "model.klant.no_destinations": segment_node("no_destinations", None),
            "model.klant.dim_profiles": {
                "resource_type": "model",
                "name": "dim_profiles",
                "schema": "marts",
                "tags": ["published"],
                "config": {"meta": {}},
            },
        }
    }


ALL = ["google_customer_match", "meta_custom_audiences", "dmp_audiences"]


@pytest.fixture
def exports(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("KLANT_EXPORTS_DIR", raising=False)
    return settings.exports_dir


def materialize(settings: Settings, destinations: list[str] = ALL) -> dg.ExecuteInProcessResult:
    assets = build_activation_assets(manifest_with(destinations))
    klant = KlantConfig(
        landing_dir=str(settings.landing_dir), warehouse_dir=str(settings.warehouse_dir)
    )
    return dg.materialize(assets, resources={"klant": klant}, raise_on_error=False)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def latest(exports: Path, destination: str) -> Path:
    return (exports / SEGMENT / destination / "latest").resolve()


def hashes(person_id: str) -> tuple[str, str, str]:
    """(email, phone with '+', phone digits) hashes of a synthetic person, '' when absent."""
    row = {r[0]: r for r in identifier_rows()}[person_id]
    return row[2] or "", row[3] or "", row[4] or ""


def snapshot(root: Path) -> dict[str, tuple]:
    return {
        str(p.relative_to(root)): (os.readlink(p),)
        if p.is_symlink()
        else (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


# --- exports ----------------------------------------------------------------------------------


def test_the_seed_and_the_segments_yaml_agree():
    destinations = load_destinations(seed_path())
    assert set(destinations) == set(ALL)
    assert {d.consent_purpose for d in destinations.values()} == {"advertising"}
    # every destination a segment of the project lists exists in the seed
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            listed = ((model.get("config") or {}).get("meta") or {}).get("destinations", [])
            unknown = set(listed) - set(destinations)
            assert not unknown, f"{path}: {model['name']} lists unknown destinations {unknown}"


def test_exports_contain_only_consenting_members_hashed(settings, exports):
    publish_synthetic(settings, "b1")
    result = materialize(settings)
    assert result.success

    google = latest(exports, "google_customer_match")
    assert google.name == "b1"
    e1, p1, _ = hashes("kp_1")
    e2, _, _ = hashes("kp_2")
    _, p3, d3 = hashes("kp_3")
    assert read_csv(google / "full.csv") == [
        ["Email", "Phone", "Country"],
        *sorted([[e1, p1, "NL"], [e2, "", "NL"], ["", p3, "NL"]]),
    ]
    _, _, d1 = hashes("kp_1")
    assert read_csv(latest(exports, "meta_custom_audiences") / "full.csv") == [
        ["email", "phone"],
        *sorted([[e1, d1], [e2, ""], ["", d3]]),
    ]
    # one row per cookie id, the hashed e-mail where known; a person without a cookie id but
    # with an e-mail gets one row without; a visitor has only its cookie id
    assert read_csv(latest(exports, "dmp_audiences") / "full.csv") == [
        ["anonymous_id", "email_sha256"],
        *sorted([["", e2], ["a-1", e1], ["a-2", e1], ["a-6", ""], ["a-7", ""]]),
    ]
    assert sha256(normalize_email(VECTOR_INPUT).value) == e1 == VECTOR_SHA256

    manifest = json.loads((google / "manifest.json").read_text())
    assert manifest["segment"] == SEGMENT
    assert manifest["destination"] == "google_customer_match"
    assert manifest["build_id"] == "b1"
    assert manifest["previous_build_id"] is None
    assert manifest["consent_purpose"] == "advertising"
    # members: kp_1..6, kv_7, kp_8; no consent: kp_4 (false), kp_5 (null), kp_8 (unknown);
    # no identifier: kp_6 (no e-mail or phone), kv_7 (a visitor)
    assert manifest["counts"] == {
        "segment_members": 8,
        "exported_members": 3,
        "exported_rows": 3,
        "excluded_without_consent": 3,
        "excluded_without_identifier": 2,
        "adds": 3,
        "removes": 0,
    }
    for name in ("full.csv", "adds.csv", "removes.csv"):
        data = (google / name).read_bytes()
        assert manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
    assert read_csv(google / "adds.csv") == read_csv(google / "full.csv")
    assert read_csv(google / "removes.csv") == [["Email", "Phone", "Country"]]
    dmp = json.loads((latest(exports, "dmp_audiences") / "manifest.json").read_text())
    assert dmp["counts"]["exported_members"] == 4  # kp_1, kp_2, kp_6, kv_7
    assert dmp["counts"]["excluded_without_identifier"] == 1  # kp_3: a phone, no cookie id

    metadata = result.asset_materializations_for_node("activation__test_segment")[0].metadata
    assert metadata["google_customer_match/exported_rows"].value == 3
    assert metadata["build_id"].value == "b1"
    assert metadata["dmp_audiences/folder"].value == str(exports / SEGMENT / "dmp_audiences" / "b1")


def test_no_raw_email_or_phone_in_any_file(settings, exports):
    publish_synthetic(settings, "b1")
    assert materialize(settings).success
    publish_synthetic(settings, "b2", members=MEMBERS[:3])
    assert materialize(settings).success
    written = [p for p in exports.rglob("*") if p.is_file()]
    assert len(written) == 2 * 3 * 4
    for path in written:
        text = path.read_text().lower()
        assert "@" not in text, path
        for raw in RAW:
            assert raw.lower() not in text, (path, raw)


def test_a_second_build_exports_adds_and_removes(settings, exports):
    publish_synthetic(settings, "b1")
    assert materialize(settings).success
    # kp_2 leaves the segment, kp_4 says yes to advertising, kp_1 gets a new cookie id
    profiles = {**PROFILES, "kp_4": ("person", True, True, True)}
    members = [m for m in MEMBERS if m != "kp_2"]
    publish_synthetic(settings, "b2", members, profiles, DEVICES + [("kp_1", "a-3")])
    assert materialize(settings).success

    e2, _, _ = hashes("kp_2")
    e4, p4, d4 = hashes("kp_4")
    e1, _, _ = hashes("kp_1")
    google = latest(exports, "google_customer_match")
    assert google.name == "b2"
    assert read_csv(google / "adds.csv")[1:] == [[e4, p4, "NL"]]
    assert read_csv(google / "removes.csv")[1:] == [[e2, "", "NL"]]
    meta = latest(exports, "meta_custom_audiences")
    assert read_csv(meta / "adds.csv")[1:] == [[e4, d4]]
    assert read_csv(meta / "removes.csv")[1:] == [[e2, ""]]
    dmp = latest(exports, "dmp_audiences")
    assert read_csv(dmp / "adds.csv")[1:] == sorted([["a-3", e1], ["", e4]])
    assert read_csv(dmp / "removes.csv")[1:] == [["", e2]]
    manifest = json.loads((google / "manifest.json").read_text())
    assert manifest["build_id"] == "b2"
    assert manifest["previous_build_id"] == "b1"
    assert manifest["counts"]["adds"] == 1 and manifest["counts"]["removes"] == 1
    # the first export stays as it was
    first = exports / SEGMENT / "google_customer_match" / "b1"
    assert json.loads((first / "manifest.json").read_text())["counts"]["adds"] == 3


def test_exporting_the_same_build_again_changes_nothing(settings, exports):
    publish_synthetic(settings, "b1")
    assert materialize(settings).success
    before = snapshot(exports)
    result = materialize(settings)
    assert result.success
    assert snapshot(exports) == before
    metadata = result.asset_materializations_for_node("activation__test_segment")[0].metadata
    assert metadata["google_customer_match/exported_rows"].value == 3


def test_a_rolled_back_build_is_exported_against_the_last_export(settings, exports):
    publish_synthetic(settings, "b1")
    assert materialize(settings).success
    publish_synthetic(settings, "b2", members=MEMBERS[:1])
    assert materialize(settings).success
    point_readers_at(settings, "b1")  # a rollback of the published store
    assert materialize(settings).success
    google = latest(exports, "google_customer_match")
    assert google.name == "b1.2"
    manifest = json.loads((google / "manifest.json").read_text())
    assert (manifest["build_id"], manifest["previous_build_id"]) == ("b1", "b2")
    assert manifest["counts"]["adds"] == 2 and manifest["counts"]["removes"] == 0


def test_an_export_killed_after_its_rename_is_completed(settings, exports):
    publish_synthetic(settings, "b1")
    assert materialize(settings).success
    root = exports / SEGMENT / "google_customer_match"
    (root / "latest").unlink()  # as if the process died before the swap
    before = (root / "b1" / "manifest.json").read_bytes()
    assert materialize(settings).success
    assert latest(exports, "google_customer_match").name == "b1"
    assert (root / "b1" / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["b1", "latest"]


def test_an_unknown_destination_fails_clearly(settings, exports):
    publish_synthetic(settings, "b1")
    result = materialize(settings, ["google_customer_match", "tiktok_audiences"])
    assert not result.success
    failure = result.failure_data_for_node("activation__test_segment").user_failure_data
    assert "tiktok_audiences" in failure.description
    assert "activation_destinations" in failure.description
    assert "_segments__models.yml" in failure.description
    assert not exports.exists()  # nothing written for any destination
    segment = Segment(SEGMENT, SEGMENT, ("nowhere",), "models/segments/x.yml")
    with pytest.raises(UnknownDestination, match="'nowhere'.*google_customer_match"):
        resolve(segment, load_destinations(seed_path()))


def test_nothing_published_fails_clearly(settings, exports):
    result = materialize(settings)
    assert not result.success
    failure = result.failure_data_for_node("activation__test_segment").user_failure_data
    assert "nothing is published yet" in failure.description


def test_assets_per_segment_with_destinations():
    assets = build_activation_assets(manifest_with(ALL))
    assert [a.key for a in assets] == [dg.AssetKey(["activation", SEGMENT])]
    spec = next(iter(assets[0].specs))
    assert spec.group_name == "activation"
    assert dg.AssetKey("published") in {dep.asset_key for dep in spec.deps}
    assert spec.description and "\n" not in spec.description


# --- guards ----------------------------------------------------------------------------------

GOOGLE = Destination("google_customer_match", "google_customer_match", "advertising")
DMP = Destination("dmp_audiences", "dmp", "advertising")


def test_an_unhashed_value_is_never_written(tmp_path):
    member = Member("kp_1", email_sha256="person@example.com", consent_advertising=True)
    with pytest.raises(ExportError, match="not a SHA-256"):
        write_export([member], SEGMENT, GOOGLE, "b1", tmp_path)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_cookie_id_holding_an_email_or_phone_is_not_sent():
    assert looks_like_email_or_phone("someone@example.com")
    assert looks_like_email_or_phone("+31 6 1234 5678")
    assert not looks_like_email_or_phone("9b305352-9e72-43ef-b2ba-b2b34c840659")
    assert not looks_like_email_or_phone("GA1.2.123456789.1234567890")
    member = Member(
        "kp_1", consent_advertising=True, anonymous_ids=("someone@example.com", "0612345678")
    )
    plan = plan_rows([member], DMP)
    assert plan.rows == []
    assert plan.counts["excluded_without_identifier"] == 1


def test_exports_dir_defaults_under_the_warehouse(settings, monkeypatch):
    monkeypatch.delenv("KLANT_EXPORTS_DIR", raising=False)
    assert settings.exports_dir == settings.warehouse_dir / "exports"
    monkeypatch.setenv("KLANT_EXPORTS_DIR", str(settings.landing_dir / "out"))
    assert settings.exports_dir == settings.landing_dir / "out"
