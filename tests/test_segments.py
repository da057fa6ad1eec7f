"""Segments end to end: membership history across runs, exports with adds and removes, consent,
no clear identifiers in any export file, and a new segment added as one file.

The tests in this module share one warehouse and run in file order.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from klant.definitions import build_definitions
from klant.settings import DBT_PROJECT_DIR, Settings
from tests.conftest import SEEDS, clone_build, copy_sample_exports

pytestmark = pytest.mark.slow

STAYS = "select segment_name, person_id, entered_at, exited_at from segments.segment_memberships"
ADVERTISING_DESTINATIONS = ("google_customer_match", "meta_custom_audiences", "dmp_audiences")


@dataclass
class Pipeline:
    settings: Settings
    defs: dg.Definitions

    def run(self) -> dg.ExecuteInProcessResult:
        result = self.defs.resolve_job_def("klant_full").execute_in_process(raise_on_error=False)
        assert result.success, [e.message for e in result.all_events if e.is_step_failure]
        return result

    def query(self, sql: str, *params) -> list[tuple]:
        con = duckdb.connect(str(self.settings.published_db), read_only=True)
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()

    def build_id(self) -> str:
        return self.query("select build_id from klant_build")[0][0]

    @property
    def exports(self) -> Path:
        return self.settings.exports_dir


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def latest(pipeline: Pipeline, segment: str, destination: str) -> Path:
    return pipeline.exports / segment / destination / "latest"


@pytest.fixture(scope="module")
def pipeline(sample_build: Settings, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the session's sample build (the first run), for the runs these tests add."""
    settings = clone_build(sample_build, tmp_path_factory.mktemp("segments"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KLANT_LANDING_DIR", str(settings.landing_dir))
        env.setenv("KLANT_WAREHOUSE_DIR", str(settings.warehouse_dir))
        env.delenv("KLANT_EXPORTS_DIR", raising=False)
        yield Pipeline(settings, build_definitions())


def test_every_segment_is_published_with_its_history(pipeline: Pipeline):
    segments = {
        name
        for (name,) in pipeline.query(
            "select table_name from information_schema.tables where table_schema = 'segments'"
        )
    }
    starters = {
        "rfm_champions",
        "churn_risk_customers",
        "cart_abandoners",
        "newly_identified_visitors",
        "high_intent_anonymous_visitors",
        "repeat_customers",
    }
    assert starters | {"segment_members", "segment_memberships", "segment_sizes"} <= segments
    sizes = dict(pipeline.query("select segment_name, member_count from segments.segment_sizes"))
    for name in starters:
        (count,) = pipeline.query(f"select count(*) from segments.{name}")[0]
        assert sizes[name] == count > 0, name  # every starter segment finds someone in the sample
        open_stays = pipeline.query(
            "select count(*) from segments.segment_memberships "
            "where segment_name = ? and exited_at is null",
            name,
        )[0][0]
        assert open_stays == count, name


def test_exports_hold_no_clear_email_or_phone(pipeline: Pipeline):
    clear: set[str] = set()
    for row in read_rows(next((SEEDS / "crm").glob("*.csv"))):
        for column in ("Email", "Phone Number", "Mobile Phone Number"):
            clear.add(row[column])
    for path in (SEEDS / "commerce").glob("*.csv"):
        for row in read_rows(path):
            for column in ("Email", "Billing Phone", "Shipping Phone", "Phone"):
                clear.add(row[column])
    profiles = pipeline.query("select email, phone from dim_profiles")
    for email, phone in profiles:
        clear.update({email or "", phone or "", (phone or "").lstrip("+")})
    forms = {v.strip() for v in clear} | {v.strip().lower() for v in clear}
    forms = {v for v in forms if len(v) >= 6}
    digits = {re.sub(r"\D", "", v) for v in forms if "@" not in v}
    files = [p for p in pipeline.exports.rglob("*") if p.is_file()]
    assert any(p.name == "full.csv" for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "@" not in text.replace("\n", ""), path  # no e-mail address of any kind
        cells = set(re.split(r"[,\n\"]", text))
        assert not cells & forms, (path, sorted(cells & forms)[:3])
        assert not cells & digits, (path, sorted(cells & digits)[:3])


def test_only_people_with_advertising_consent_are_exported(pipeline: Pipeline):
    """Consent false or never stated: the person's hashes appear in no advertising export."""
    rows = pipeline.query(
        "select email, phone, consent_advertising from dim_profiles "
        "where email is not null or phone is not null"
    )
    refused = {sha256(e) for e, _, ok in rows if e and ok is not True}
    refused |= {sha256(p) for _, p, ok in rows if p and ok is not True}
    refused |= {sha256(p.lstrip("+")) for _, p, ok in rows if p and ok is not True}
    allowed = {sha256(e) for e, _, ok in rows if e and ok is True}
    assert refused and allowed
    cookies_refused = {
        a
        for (a,) in pipeline.query(
            "select anonymous_id from dim_visitors where consent_advertising is not true"
        )
    }
    seen_allowed = 0
    for destination in ADVERTISING_DESTINATIONS:
        for full in pipeline.exports.glob(f"*/{destination}/latest/full.csv"):
            for row in read_rows(full):
                values = set(row.values())
                assert not values & refused, (full, values & refused)
                assert not values & cookies_refused, full
                seen_allowed += len(values & allowed)
    assert seen_allowed > 0


def _order_rows(header: list[str], name: str, email: str, created_at: str) -> list[list[str]]:
    row = dict.fromkeys(header, "")
    row.update(
        {
            "Name": name,
            "Email": email,
            "Financial Status": "paid",
            "Paid at": created_at,
            "Accepts Marketing": "yes",
            "Currency": "EUR",
            "Subtotal": "45.00",
            "Shipping": "5.00",
            "Taxes": "0.00",
            "Total": "50.00",
            "Created at": created_at,
            "Lineitem quantity": "1",
            "Lineitem name": "Lavendel Hidcote 6 stuks",
            "Lineitem price": "45.00",
            "Lineitem sku": "GH-PZ-0139",
            "Refunded Amount": "0.00",
        }
    )
    return [[row[column] for column in header]]


def test_a_change_between_runs_moves_people_in_and_out(pipeline: Pipeline):
    first_build = pipeline.build_id()
    first_stays = set(pipeline.query(STAYS))
    # one churn-risk customer orders again (leaves churn risk); one one-time customer orders a
    # second time (joins repeat customers); both may be advertised to
    leaver_id, leaver_email = pipeline.query(
        "select person_id, email from dim_profiles join segments.churn_risk_customers using "
        "(person_id) where consent_advertising and email is not null order by person_id limit 1"
    )[0]
    joiner_id, joiner_email = pipeline.query(
        "select person_id, email from dim_profiles where revenue_order_count = 1 "
        "and consent_advertising and email is not null order by person_id limit 1"
    )[0]
    source = next((SEEDS / "commerce").glob("*.csv"))
    with source.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    late = pipeline.settings.landing_dir / "commerce" / "orders_export_late.csv"
    with late.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(_order_rows(header, "#T9001", leaver_email, "2026-11-28 12:00:00 +0100"))
        writer.writerows(_order_rows(header, "#T9002", joiner_email, "2026-11-28 12:05:00 +0100"))

    pipeline.run()
    second_build = pipeline.build_id()
    assert second_build != first_build

    stays = pipeline.query(
        "select segment_name, person_id, entered_at, exited_at from segments.segment_memberships "
        "where person_id in (?, ?) order by entered_at",
        leaver_id,
        joiner_id,
    )
    (left,) = [s for s in stays if s[0] == "churn_risk_customers" and s[1] == leaver_id]
    assert left[3] is not None and left[3] > left[2]
    (joined,) = [s for s in stays if s[0] == "repeat_customers" and s[1] == joiner_id]
    assert joined[3] is None
    second_time = pipeline.query(
        "select max(measured_at) from segments.segment_sizes "
        "where segment_name = 'repeat_customers'"
    )[0][0]
    assert joined[2] == second_time and left[3] == second_time
    # stays of people the change did not touch keep their first entered_at
    untouched = pipeline.query(
        "select segment_name, person_id, entered_at, exited_at from segments.segment_memberships "
        "where segment_name = 'repeat_customers' and person_id <> ?",
        joiner_id,
    )
    assert set(untouched) <= first_stays

    removes = read_rows(
        latest(pipeline, "churn_risk_customers", "google_customer_match") / "removes.csv"
    )
    assert sha256(leaver_email) in {r["Email"] for r in removes}
    adds = read_rows(latest(pipeline, "repeat_customers", "google_customer_match") / "adds.csv")
    assert sha256(joiner_email) in {r["Email"] for r in adds}
    manifest = json.loads(
        (
            latest(pipeline, "repeat_customers", "google_customer_match") / "manifest.json"
        ).read_text()
    )
    assert manifest["build_id"] == second_build
    assert manifest["previous_build_id"] == first_build
    sizes = dict(
        pipeline.query(
            "select segment_name, entered_count from segments.segment_sizes where measured_at = ?",
            second_time,
        )
    )
    assert sizes["repeat_customers"] >= 1


def test_a_rerun_without_new_input_changes_no_membership(pipeline: Pipeline):
    before = set(pipeline.query(STAYS))
    pipeline.run()
    assert set(pipeline.query(STAYS)) == before
    for adds in pipeline.exports.glob("*/*/latest/adds.csv"):
        assert read_rows(adds) == [], adds
    for removes in pipeline.exports.glob("*/*/latest/removes.csv"):
        assert read_rows(removes) == [], removes


NEW_SEGMENT = """\
{{ config(meta={'owner': 'test-team', 'destinations': ['google_customer_match']}) }}

select
    person_id,
    revenue
from {{ ref('dim_profiles') }}
where revenue >= 300
"""


def test_a_new_segment_is_one_file(tmp_path: Path):
    project = tmp_path / "dbt_project"
    shutil.copytree(
        DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    (project / "models" / "segments" / "big_spenders.sql").write_text(NEW_SEGMENT)
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    copy_sample_exports(landing)
    env = {
        **os.environ,
        "KLANT_DBT_PROJECT_DIR": str(project),
        "KLANT_LANDING_DIR": str(landing),
        "KLANT_WAREHOUSE_DIR": str(warehouse),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    env.pop("KLANT_EXPORTS_DIR", None)
    keys = subprocess.run(
        [
            sys.executable,
            "-c",
            "from klant.definitions import defs; "
            "print('\\n'.join(k.to_user_string() for k in defs.resolve_all_asset_keys()))",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "segments/big_spenders" in keys
    assert "activation/big_spenders" in keys
    done = subprocess.run(
        [sys.executable, "-m", "klant.cli", "run"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    con = duckdb.connect(str(warehouse / "published" / "klant.duckdb"), read_only=True)
    try:
        members = con.execute("select count(*) from segments.big_spenders").fetchone()[0]
        expected = con.execute("select count(*) from dim_profiles where revenue >= 300").fetchone()[
            0
        ]
        sized = con.execute(
            "select member_count from segments.segment_sizes where segment_name = 'big_spenders'"
        ).fetchone()[0]
    finally:
        con.close()
    con = duckdb.connect(str(warehouse / "build.duckdb"), read_only=True)
    try:
        checks = con.execute(
            "select passed from audit.check_results where check_name = 'gx_big_spenders'"
        ).fetchall()
    finally:
        con.close()
    assert members == expected == sized > 0
    assert checks and all(passed for (passed,) in checks)
    export = warehouse / "exports" / "big_spenders" / "google_customer_match" / "latest"
    rows = read_rows(export / "full.csv")
    assert 0 < len(rows) <= members
    assert json.loads((export / "manifest.json").read_text())["counts"]["exported_rows"] == len(
        rows
    )
