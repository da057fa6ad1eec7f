"""Identity rules end to end: a junk value shared by strangers and a shared family tablet."""

import csv
import json

import duckdb
import pytest

from klant.definitions import build_definitions
from klant.settings import Settings
from tests.test_ingest import HUBSPOT_HEADER

pytestmark = pytest.mark.slow

JUNK_EMAIL = "info@shop-nl.example"  # not on any blocklist: the limits must catch it


def write_landing(settings: Settings) -> None:
    crm = settings.landing_dir / "crm"
    crm.mkdir(parents=True)
    with (crm / "contacts.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HUBSPOT_HEADER)
        for i in range(200):
            writer.writerow(
                [
                    str(5000 + i), f"Stranger{i}", "Jansen", f" {JUNK_EMAIL.upper()} ",
                    f"+31 6 1000 {i:04d}", "", "", "", "", "", "", "Netherlands",
                    "2026-05-01 10:00", "2026-05-02 10:00", "Lead", "", "false",
                ]
            )  # fmt: skip
    web = settings.landing_dir / "web"
    web.mkdir()
    events = []
    for n, (user, email) in enumerate([("u-anna", "anna@family.example"),
                                       ("u-bram", "bram@family.example")]):  # fmt: skip
        events.append(
            {"type": "identify", "messageId": f"id-{n}", "anonymousId": "family-tablet",
             "userId": user, "traits": {"email": email},
             "timestamp": f"2026-06-0{n + 1}T10:00:00.000Z"}
        )  # fmt: skip
    events.append(
        {"type": "page", "messageId": "page-1", "anonymousId": "family-tablet",
         "timestamp": "2026-06-03T10:00:00.000Z", "properties": {"path": "/garden"}}
    )  # fmt: skip
    (web / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def test_strangers_sharing_a_junk_email_and_a_family_tablet_stay_apart(settings: Settings):
    write_landing(settings)
    result = (
        build_definitions().resolve_job_def("klant_full").execute_in_process(raise_on_error=False)
    )
    assert result.success
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        persons = con.execute("select count(*) from dim_profiles").fetchone()[0]
        assert persons == 202  # 200 strangers, Anna and Bram
        strangers = con.execute(
            "select count(distinct person_id) from dim_person_identifiers "
            "where identifier_type = 'phone' and identifier_value like '+3161000%'"
        ).fetchone()[0]
        assert strangers == 200
        family = con.execute(
            "select count(distinct person_id) from dim_person_identifiers "
            "where identifier_value in ('u-anna', 'u-bram')"
        ).fetchone()[0]
        assert family == 2
        audit = con.execute(
            "select identifier_type, rule, reason from fct_identity_audit "
            "where identifier_value = ?",
            [JUNK_EMAIL],
        ).fetchall()
    finally:
        con.close()
    assert audit, "the audit table must name the junk value"
    assert {row[0] for row in audit} == {"email"}
