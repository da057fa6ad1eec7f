"""Ingest: every line of a landing file ends up loaded or quarantined, once."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from klant.ingest.assets import build_ingest_asset
from klant.ingest.loader import load_source
from klant.ingest.sources import CRM, WEB, snake_case
from klant.resources import KlantConfig
from klant.settings import Settings

HUBSPOT_HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
    "Company Name", "Job Title", "Street Address", "City", "Postal Code", "Country/Region",
    "Create Date", "Last Modified Date", "Lifecycle Stage", "Lead Status",
    "Marketing email opt-in",
]  # fmt: skip


def contact(i: int) -> list[str]:
    return [
        str(1000 + i), f"Anna{i}", "de Vries", f" Anna{i}@Example.com ", "06-1234 5678", "",
        "Tuinhuis BV", "", "Dorpsstraat 1", "Utrecht", "3511 AB", "Netherlands",
        "2026-01-05 10:00", "2026-02-01 09:30", "Lead", "", "true",
    ]  # fmt: skip


def write_csv(path: Path, header: list[str], rows: list[list[str]], extra_lines=()) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue() + "".join(f"{line}\n" for line in extra_lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def materialize_crm(settings: Settings) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [build_ingest_asset(CRM)],
        resources={"klant": KlantConfig.from_env()},
        raise_on_error=False,
    )


def query(settings: Settings, sql: str, params=None):
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


MALFORMED = [
    # one field too many
    "2001,Bad,Fields,bad@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,true,extra",
    # an impossible date
    "2002,Bad,Date,bad2@example.com,,,,,,,,,31/02/2026 25:99,2026-02-01 09:30,Lead,,true",
    # no record id
    ",No,Id,noid@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,true",
]


def test_three_malformed_rows_land_in_quarantine_and_the_rest_loads(settings: Settings):
    path = write_csv(
        settings.landing_dir / "crm" / "contacts.csv",
        HUBSPOT_HEADER,
        [contact(i) for i in range(100)],
        extra_lines=MALFORMED,
    )
    result = materialize_crm(settings)
    assert result.success

    data_lines = len(path.read_text().splitlines()) - 1  # minus the header
    loaded = query(settings, "select count(*) from raw.crm_contacts")[0][0]
    quarantined = query(
        settings, "select line_number, reason, raw_line from raw.quarantine order by line_number"
    )
    assert loaded == 100
    assert len(quarantined) == 3
    assert loaded + len(quarantined) == data_lines
    reasons = [r[1] for r in quarantined]
    assert reasons[0] == "wrong number of fields: expected 17, got 18"
    assert reasons[1].startswith("invalid create_date")
    assert reasons[2] == "missing required value: record_id"
    assert [r[2] for r in quarantined] == MALFORMED  # the raw line, exactly as in the file
    assert [r[0] for r in quarantined] == [102, 103, 104]  # physical line numbers

    ledger = query(
        settings, "select status, lines, rows_loaded, rows_quarantined from raw.load_ledger"
    )
    assert ledger == [("loaded", 103, 100, 3)]
    materialization = result.asset_materializations_for_node(result.all_node_events[0].node_name)[0]
    assert materialization.metadata["rows_quarantined"].value == 3


def test_the_same_file_twice_loads_nothing_new(settings: Settings):
    write_csv(settings.landing_dir / "crm" / "a.csv", HUBSPOT_HEADER, [contact(1), contact(2)])
    assert materialize_crm(settings).success
    # the same bytes under another name (an export dropped twice) is the same load
    write_csv(settings.landing_dir / "crm" / "b.csv", HUBSPOT_HEADER, [contact(1), contact(2)])
    assert materialize_crm(settings).success
    assert query(settings, "select count(*) from raw.crm_contacts")[0][0] == 2
    assert query(settings, "select count(*) from raw.load_ledger")[0][0] == 1


def test_an_unchanged_file_is_skipped_unread_and_a_changed_one_is_read(
    settings: Settings, monkeypatch
):
    path = write_csv(settings.landing_dir / "crm" / "a.csv", HUBSPOT_HEADER, [contact(1)])
    assert materialize_crm(settings).success
    reads: list[str] = []
    read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda p: reads.append(p.name) or read_bytes(p))
    assert materialize_crm(settings).success
    assert reads == []  # same name, size and modification time: not read again

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert materialize_crm(settings).success  # touched only: read, hashed, the same load
    assert reads == ["a.csv"]
    assert query(settings, "select count(*) from raw.load_ledger")[0][0] == 1

    assert materialize_crm(settings).success
    assert reads == ["a.csv"]  # its new time is on record: not read again

    write_csv(path, HUBSPOT_HEADER, [contact(2)])  # other bytes, same size, a new time
    assert materialize_crm(settings).success
    assert reads == ["a.csv", "a.csv"]
    assert query(settings, "select record_id from raw.crm_contacts order by 1") == [
        ("1001",),
        ("1002",),
    ]


def test_a_new_column_is_kept_and_logged(settings: Settings, caplog):
    write_csv(
        settings.landing_dir / "crm" / "a.csv",
        [*HUBSPOT_HEADER, "Favourite Plant"],
        [[*contact(1), "Monstera"]],
    )
    assert materialize_crm(settings).success
    assert query(settings, "select favourite_plant from raw.crm_contacts") == [("Monstera",)]
    assert query(settings, "select new_columns from raw.load_ledger") == [("favourite_plant",)]


def test_a_missing_required_column_refuses_the_file_naming_column_and_file(settings: Settings):
    header = [h for h in HUBSPOT_HEADER if h != "Email"]
    rows = [[v for h, v in zip(HUBSPOT_HEADER, contact(1), strict=True) if h != "Email"]]
    write_csv(settings.landing_dir / "crm" / "no_email.csv", header, rows)
    write_csv(settings.landing_dir / "crm" / "ok.csv", HUBSPOT_HEADER, [contact(2)])
    result = materialize_crm(settings)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.event_specific_data.error.message
    assert "crm/no_email.csv" in message and "missing required column(s) email" in message
    # the good file still loaded; nothing of the refused one did
    assert query(settings, "select record_id from raw.crm_contacts") == [("1002",)]
    assert query(settings, "select status from raw.load_ledger order by source_file") == [
        ("refused",),
        ("loaded",),
    ]


def test_too_many_bad_rows_refuse_the_whole_file(settings: Settings):
    write_csv(
        settings.landing_dir / "crm" / "mostly_bad.csv",
        HUBSPOT_HEADER,
        [contact(i) for i in range(10)],
        extra_lines=MALFORMED,
    )
    result = materialize_crm(settings)
    assert not result.success
    message = next(e for e in result.all_events if e.is_step_failure).event_specific_data.error
    assert "3 of 13 rows are bad" in message.message
    assert query(settings, "select count(*) from raw.crm_contacts")[0][0] == 0
    assert query(settings, "select count(*) from raw.quarantine")[0][0] == 0


def test_json_lines_invalid_utf8_and_broken_json_are_quarantined(settings: Settings):
    good = {
        "type": "page",
        "messageId": "m-1",
        "anonymousId": "a-1",
        "timestamp": "2026-03-01T10:00:00.000Z",
        "context": {"page": {"path": "/café"}},
    }
    lines = [json.dumps(good, ensure_ascii=False).encode()] * 100
    lines += [b'{"type":"page","messageId":"m-2"', "caf\u00e9".encode("latin-1"), b"[1,2]"]
    path = settings.landing_dir / "web" / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    settings.warehouse_dir.mkdir()
    con = duckdb.connect(str(settings.warehouse_dir / "t.duckdb"))
    [result] = load_source(con, WEB, settings.landing_dir)
    assert (result.rows_loaded, result.rows_quarantined, result.lines) == (100, 3, 103)
    reasons = [
        r[0]
        for r in con.execute("select reason from raw.quarantine order by line_number").fetchall()
    ]
    assert reasons[0].startswith("invalid JSON")
    assert reasons[1] == "invalid UTF-8"
    assert reasons[2] == "not a JSON object"
    assert con.execute("select distinct context from raw.web_events").fetchall() == [
        ('{"page":{"path":"/café"}}',)
    ]


def test_web_events_store_their_json_objects_with_zstd_and_short_columns_their_own_way(
    settings: Settings,
):
    lines = [
        json.dumps(
            {
                "type": "track",
                "messageId": f"m-{i}",
                "anonymousId": f"a-{i % 50}",
                "timestamp": "2026-03-01T10:00:00.000Z",
                "properties": {"sku": f"GH-{i % 97:04d}", "price": i % 40},
                "context": {"page": {"path": f"/products/{i % 300}"}, "locale": "nl-NL"},
            }
        )
        for i in range(3000)
    ]
    path = settings.landing_dir / "web" / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    settings.warehouse_dir.mkdir()
    con = duckdb.connect(str(settings.warehouse_dir / "t.duckdb"))  # a file: it compresses
    [result] = load_source(con, WEB, settings.landing_dir)
    assert result.rows_loaded == 3000
    con.execute("checkpoint")
    compression = dict(
        con.execute(
            "select column_name, string_agg(distinct compression, ',') "
            "from pragma_storage_info('raw.web_events') where segment_type = 'VARCHAR' "
            "group by column_name"
        ).fetchall()
    )
    assert compression["context"] == compression["properties"] == "ZSTD"
    assert "ZSTD" not in compression["type"] and "ZSTD" not in compression["anonymous_id"]
    assert con.execute(
        "select count(*), count(distinct context) from raw.web_events "
        "where json_extract_string(properties, '$.sku') like 'GH-%'"
    ).fetchone() == (3000, 300)


def test_sql_in_a_file_name_is_only_data(settings: Settings):
    name = "x'; drop table raw.crm_contacts;--.csv"
    write_csv(settings.landing_dir / "crm" / name, HUBSPOT_HEADER, [contact(1)])
    assert materialize_crm(settings).success
    assert query(settings, "select _source_file from raw.crm_contacts") == [(f"crm/{name}",)]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Record ID", "record_id"),
        ("Country/Region", "country_region"),
        ("Billing Address1", "billing_address1"),
        ("anonymousId", "anonymous_id"),
        ("Marketing email opt-in", "marketing_email_opt_in"),
        ("  Lineitem  quantity ", "lineitem_quantity"),
        ("1st touch", "c_1st_touch"),
    ],
)
def test_snake_case_column_names(header: str, column: str):
    assert snake_case(header) == column


def test_a_declared_latin1_file_loads_cafe_and_undeclared_bytes_are_quarantined(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    rows = [contact(i) for i in range(40)]
    rows[0][1] = "Café"
    header = ",".join(HUBSPOT_HEADER) + "\n"
    body = "".join(",".join(r) + "\n" for r in rows)
    path = settings.landing_dir / "crm" / "legacy.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes((header + body).encode("latin-1"))

    # undeclared, the Latin-1 byte is not UTF-8: that one row is quarantined, the rest loads
    assert materialize_crm(settings).success
    assert query(settings, "select reason, line_number from raw.quarantine") == [
        ("invalid UTF-8", 2)
    ]

    # declared as Latin-1 (a new export of the same system), café reads right
    monkeypatch.setenv("KLANT_ENCODING_CRM", "latin-1")
    path.write_bytes((header + body.replace("Anna1,", "Anne1,")).encode("latin-1"))
    assert materialize_crm(settings).success
    assert ("Café",) in query(
        settings, "select first_name from raw.crm_contacts where _source_file = 'crm/legacy.csv'"
    )
    assert query(settings, "select encoding from raw.load_ledger order by loaded_at") == [
        ("utf-8",),
        ("iso8859-1",),
    ]


def test_an_unknown_declared_encoding_is_a_clear_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("KLANT_ENCODING_CRM", "klingon")
    write_csv(settings.landing_dir / "crm" / "a.csv", HUBSPOT_HEADER, [contact(1)])
    result = materialize_crm(settings)
    assert not result.success
    message = next(e for e in result.all_events if e.is_step_failure).event_specific_data.error
    assert "KLANT_ENCODING_CRM='klingon' is not a known encoding" in message.message


def test_a_run_refuses_to_start_without_enough_free_disk(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    write_csv(settings.landing_dir / "crm" / "a.csv", HUBSPOT_HEADER, [contact(1)])
    monkeypatch.setenv("KLANT_MIN_FREE_DISK_MB", str(10**12))  # an exabyte: never free
    result = materialize_crm(settings)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "MB free under" in failure.event_specific_data.error.message
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)
    assert not settings.build_db.exists()  # nothing was written


def test_a_transient_io_error_is_retried_and_the_load_completes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    from klant.ingest import assets

    write_csv(
        settings.landing_dir / "crm" / "contacts.csv", HUBSPOT_HEADER, [contact(1), contact(2)]
    )
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("Input/output error (a network disk hiccup)")
        return load_source(*args, **kwargs)

    monkeypatch.setattr(assets, "load_source", flaky)
    result = materialize_crm(settings)
    assert result.success
    assert len(calls) == 2  # failed once, retried after a backoff, loaded
    restarts = [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
    assert len(restarts) == 1
    assert query(settings, "select count(*) from raw.crm_contacts") == [(2,)]
