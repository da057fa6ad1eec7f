"""Identity graph health checks and the quality measure against a ground truth."""

import json
from pathlib import Path

import duckdb
import pytest

from klant import graph_health as health


@pytest.fixture
def con(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    con.execute("create schema marts; create schema intermediate; create schema audit")
    con.execute(
        "create table marts.dim_person_identifiers as select * from (values "
        "('email', 'a@x.nl', 'kp_1'), ('phone', '+31612345678', 'kp_1'), "
        "('user_id', 'u1', 'kp_1'), ('email', 'b@x.nl', 'kp_2')) "
        "t(identifier_type, identifier_value, person_id)"
    )
    con.execute(
        "create table marts.dim_profiles as select 'kp_' || i as person_id from range(100) t(i)"
    )
    yield con
    con.close()


def test_largest_group_within_and_over_the_bound(con):
    assert health.largest_group(con, 3).passed
    outcome = health.largest_group(con, 2)
    assert not outcome.passed
    assert outcome.metadata["largest_group"] == 3
    assert outcome.metadata["largest_persons"][0] == "kp_1: 3"


def test_an_identifier_in_two_persons_fails(con):
    assert health.identifiers_in_two_persons(con).passed
    con.execute("insert into marts.dim_person_identifiers values ('email', 'a@x.nl', 'kp_2')")
    outcome = health.identifiers_in_two_persons(con)
    assert not outcome.passed
    assert outcome.metadata["by_type"] == {"email": 1}


@pytest.mark.parametrize(
    ("previous", "passed"), [(None, True), (95, True), (84, True), (130, False), (80, False)]
)
def test_person_count_change_against_the_published_build(con, previous, passed):
    assert health.person_count_change(con, previous, 0.2).passed is passed


def test_published_person_count_reads_the_publish_log(con):
    assert health.published_person_count(con, "b1") is None  # no log yet
    con.execute("create table audit.publish_log (build_id varchar, row_counts varchar)")
    con.execute(
        "insert into audit.publish_log values (?, ?)",
        ["b1", json.dumps({"main.dim_profiles": 2018})],
    )
    assert health.published_person_count(con, "b1") == 2018
    assert health.published_person_count(con, None) is None


def test_quality_counts_pairs_over_and_under_merges(con, tmp_path: Path):
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "people.csv").write_text(
        "person_key,kind\nA,person\nB,person\nV,visitor\n", encoding="utf-8"
    )
    (truth / "records.csv").write_text(
        "source,file,line_number,record_key,person_key,flags\n"
        "crm,f,2,r1,A,\ncrm,f,3,r2,A,\nweb,f,2,r3,A,duplicate\nweb,f,3,r3,A,\n"
        "web,f,4,r4,B,\ncommerce,f,2,r5,B,\ncrm,f,4,r6,B,malformed\nweb,f,5,r7,V,\n",
        encoding="utf-8",
    )
    # klant: P1 = {r1, r2}, P2 = {r3, r4, r5} (A and B glued), r7 a visitor left alone
    con.execute(
        "create table intermediate.int_records_resolved as select * from (values "
        "('crm', 'r1', 'P1'), ('crm', 'r2', 'P1'), ('web', 'r3', 'P2'), "
        "('web', 'r4', 'P2'), ('commerce', 'r5', 'P2')) t(source, record_key, person_id)"
    )
    quality = health.identity_quality(con, truth)
    assert quality.records == 5 and quality.resolved == 5
    assert (quality.true_persons, quality.predicted_persons) == (2, 2)
    # pairs together in both: (r1,r2), (r4,r5) = 2; klant's pairs 1 + 3; true pairs 3 + 1
    assert quality.precision == pytest.approx(0.5)
    assert quality.recall == pytest.approx(0.5)
    assert quality.over_merged_persons == 1
    assert quality.under_merged_people == 1

    report = tmp_path / "reports" / "identity_quality.json"
    health.write_quality_report(quality, report)
    assert json.loads(report.read_text())["precision"] == 0.5
    assert "| precision | 0.5000 |" in report.with_suffix(".md").read_text()
