"""The bulk ingest path (DuckDB) loads exactly what the per-line Python path loads.

Each test lands the same tricky file twice: once through load_source as it is (the bulk path,
which hands every line it cannot prove good to the Python path) and once with the bulk path
switched off (every line through Python, the behaviour before it). Raw rows, column order,
quarantine rows and reasons, and the ledger must be the same.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import duckdb
import pytest

from klant.ingest import loader
from klant.ingest.loader import load_source
from klant.ingest.sources import (
    COMMERCE,
    CRM,
    DMP,
    ROW_CHECK_SQL,
    TYPED_VALUE_SQL,
    WEB,
    SourceSpec,
)

TIME_COLUMNS = {"_loaded_at", "quarantined_at", "loaded_at"}


def _snapshot(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> dict[str, object]:
    def rows(table: str, order: str) -> tuple[list[str], list[tuple]]:
        columns = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' "
                "and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
        ]
        kept = ", ".join(f'"{c}"' for c in columns if c not in TIME_COLUMNS)
        return columns, con.execute(f"select {kept} from raw.{table} order by {order}").fetchall()

    ledger = con.execute(
        "select regexp_replace(load_id, '-refused-.*', '-refused'), source, source_file, "
        "file_sha256, file_bytes, status, lines, rows_loaded, rows_quarantined, new_columns, "
        "error, encoding from raw.load_ledger order by source_file, status"
    ).fetchall()
    return {
        "raw": rows(spec.table, "_source_file, _line_number"),
        "quarantine": rows("quarantine", "source_file, line_number"),
        "ledger": ledger,
    }


def load_both_ways(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spec: SourceSpec,
    files: dict[str, bytes],
) -> tuple[dict[str, object], int]:
    """Snapshots after the Python path and after the bulk path, and how many rows went in bulk."""
    monkeypatch.setenv("KLANT_MAX_BAD_ROW_SHARE", os.environ.get("KLANT_MAX_BAD_ROW_SHARE", "1"))
    landing = tmp_path / "landing"
    (landing / spec.folder).mkdir(parents=True)
    for name, data in files.items():
        (landing / spec.folder / name).write_bytes(data)
    snapshots = []
    bulk_rows = 0
    insert = loader._insert_bulk

    def counting_insert(*args, **kwargs):
        nonlocal bulk_rows
        inserted = insert(*args, **kwargs)
        bulk_rows += len(inserted)
        return inserted

    for bulk in (False, True):
        con = duckdb.connect(str(tmp_path / f"bulk-{bulk}.duckdb"))
        with monkeypatch.context() as patch:
            if not bulk:
                patch.setattr(loader, "_line_array", lambda data, encoding: None)
            else:
                patch.setattr(loader, "_insert_bulk", counting_insert)
            try:
                load_source(con, spec, landing)
                snapshots.append(_snapshot(con, spec))
            finally:
                con.close()
    python, fast = snapshots
    assert fast["raw"][0] == python["raw"][0]  # the same columns, in the same order
    assert fast["raw"][1] == python["raw"][1]
    assert fast["quarantine"] == python["quarantine"]
    assert fast["ledger"] == python["ledger"]
    return fast, bulk_rows


def event(i: int, **changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "messageId": f"m-{i}",
        "type": "track",
        "event": "Product Viewed",
        "anonymousId": f"anon-{i}",
        "userId": f"user-{i}",
        "timestamp": "2026-01-06T09:34:24.588Z",
        "properties": {"sku": "GH-1", "price": 14.95, "name": "Fotolijst eiken 13x18"},
        "context": {"library": {"name": "analytics.js", "version": "1.0"}, "locale": "nl-NL"},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def compact(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


NUMBERS = [
    "25.0", "12.5", "14.95", "1e5", "1E5", "1.5e-7", "0.0001", "0.00001", "1e16", "1e15",
    "123456789012345678901234567890", "-0", "-0.0", "0.0", "1.50", "100.0", "9007199254740993",
    "18446744073709551615", "18446744073709551616", "-9223372036854775809", "1e400", "NaN",
    "Infinity", "-Infinity", "0.1", "1234567890123456.0", "123456789012345.6", "5e-324",
    "2.5e-05", "0", "-1", "99999999999999.99", "0.30000000000000004", "1.0E+2", "7",
]  # fmt: skip

STRINGS = [
    '"é"', '"\\u00e9"', '"\\/"', '"a\\u001fb"', '"\\ud83d\\ude00"', '"日本語"', '"\u2028"',
    '"tab\\there"', '"quote\\"in"', '"back\\\\slash"', '""', '"ümlaut ß"', '"\u00a0"', '"😀"',
]  # fmt: skip

TIMESTAMPS = [
    "2026-01-06T09:34:24.588Z", "2026-01-06T09:34:24Z", "2026-01-06T09:34:24+01:00",
    "2026-01-06T09:34:24.123456-05:30", "2026-02-30T00:00:00Z", "2026-01-06T09:34:24",
    "2026-01-06T09:34:24+24:00", "2026-01-06 09:34:24Z", "2026-01-06T09:34:24.5Z",
    "2026-01-06T09:34:24.1234567Z", "20260106T093424Z", " 2026-01-06T09:34:24Z ", "",
    "2024-02-29T23:59:59+14:00", "2026-01-06T24:00:00Z", "0999-01-06T09:34:24Z", "yesterday",
]  # fmt: skip


def tricky_jsonl() -> bytes:
    lines: list[bytes] = [b"\xef\xbb\xbf" + compact(event(0)).encode()]  # BOM on line 1
    for i, number in enumerate(NUMBERS):  # numbers nested, in arrays and at the top
        lines.append(
            f'{{"messageId":"n-{i}","type":"page","anonymousId":"a","timestamp":'
            f'"2026-01-06T09:34:24Z","properties":{{"v":{number},"list":[{number}, 1]}},'
            f'"value":{number}}}'.encode()
        )
    for i, text in enumerate(STRINGS):  # strings nested and at the top
        lines.append(
            f'{{"messageId":"s-{i}","type":"page","userId":"u","timestamp":"2026-01-06T09:34:24Z",'
            f'"event":{text},"traits":{{"name":{text},"deep":[{{"x":{text}}}]}}}}'.encode()
        )
    for i, stamp in enumerate(TIMESTAMPS):
        lines.append(compact(event(100 + i, timestamp=stamp)).encode())
    lines += [
        compact(event(200, event=5, channel=True, name=None, sentAt=False)).encode(),
        compact(event(201, event={"nested": [1, {"a": None}]}, properties={}, context=[])).encode(),
        compact(event(202, newField="first seen here", anotherOne=1)).encode(),  # new fields
        b"",  # empty line
        b"   ",  # spaces only
        b"\xa0".decode("latin-1").encode() * 2,  # no-break spaces only
        b'{"messageId": "x", "type": "track"',  # cut off
        b"[1, 2]",
        b'"just a string"',
        b"5",
        b'{"messageId":"tc","type":"track","anonymousId":"a","timestamp":"2026-01-06T09:34:24Z",}',
        b'{"messageId":"nan","type":"track","anonymousId":"a","timestamp":"2026-01-06T09:34:24Z",'
        b'"properties":{"v":nan}}',
        b'{"messageId":"bad-\xff-utf8","type":"track","anonymousId":"a"}',  # no UTF-8
        b"\xef\xbb\xbf" + compact(event(203)).encode(),  # a BOM that is not on line 1
        compact(event(204, messageId=...)).encode(),  # missing required value
        compact(event(205, messageId="   ")).encode(),
        compact(event(206, messageId="\u00a0\u2003")).encode(),  # Unicode spaces only
        compact(event(207, type="bogus")).encode(),
        compact(event(208, type=None)).encode(),
        compact(event(209, type=" track")).encode(),
        compact(event(210, anonymousId=..., userId=...)).encode(),
        compact(event(211, anonymousId="", userId=" ")).encode(),
        compact(event(212, anonymousId=None, userId="\u00e9")).encode(),
        # duplicate keys: last wins to Python, at the top and deep down
        b'{"messageId":"d1","type":"page","type":"track","anonymousId":"a",'
        b'"timestamp":"2026-01-06T09:34:24Z"}',
        b'{"messageId":"d2","type":"track","anonymousId":"a","timestamp":"2026-01-06T09:34:24Z",'
        b'"properties":{"a":1,"b":{"x":1,"x":2}}}',
        b'{"messageId":"d3","type":"track","anonymousId":"a","timestamp":"2026-01-06T09:34:24Z",'
        b'"properties":{"products":[{"sku":"a","sku":"b"}],"name":"p"},"context":{"name":"c"}}',
        # two keys of one column: quarantined, as one value would silently replace the other
        b'{"messageId":"c1","type":"track","anonymousId":"a","user_id":"snake","userId":"camel",'
        b'"timestamp":"2026-01-06T09:34:24Z"}',
        b'{"messageId":"c2","type":"track","anonymousId":"a","user_id":"snake only",'
        b'"timestamp":"2026-01-06T09:34:24Z"}',
        b'{"messageId":"c3","type":"track","anonymousId":"a","userId":"camel","user_id":"snake",'
        b'"timestamp":"2026-01-06T09:34:24Z"}',
        # a key with nothing to name a column by: quarantined, not the whole file refused
        b'{"messageId":"n1","type":"track","anonymousId":"a","timestamp":"2026-01-06T09:34:24Z",'
        b'"!!!":1}',
        # new fields met in one order, then again in the other: the first meeting counts
        compact(event(220, zeta=1)).encode(),
        compact(event(221, alpha=1)).encode(),
        compact(event(222, alpha=2, zeta=2)).encode(),
        # odd keys and white space between tokens
        b'{"messageId":"k1","type":"track","anonymousId":"a","timestamp":"2026-01-06T09:34:24Z",'
        b'"Foo Bar":1,"a.b":2,"x[0]":3,"it\'s":4,"$x":5,"*y":6,"CamelCase Key":7}',
        b' { "messageId" : "w1" , "type" : "track" , "anonymousId" : "a" , "timestamp" : '
        b'"2026-01-06T09:34:24Z" , "properties" : { "v" : [ 1 , 2 ] } } ',
        b'\t{"messageId":"w2","type":"track","anonymousId":"a","timestamp":"2026-01-06T09:34:24Z"}',
        b'{"messageId":"w3","type":"track","anonymousId":"a","timestamp":"2026-01-06T09:34:24Z"}\r',
        b'{"messageId":"w4","type":"track","anonymousId":"a","timestamp":"2026-01-06T09:34:24Z"} x',
        compact(event(213, laterField={"deep": True})).encode(),  # another new field, later
        compact(event(214, properties={"deep": json.loads("[" * 600 + "]" * 600)})).encode(),
        b'{"messageId":"sur\xed\xa0\x80","type":"track","anonymousId":"a"}',  # a surrogate
        b'{"messageId":"e\\u0301","type":"track","anonymousId":"a","timestamp":'
        b'"2026-01-06T09:34:24Z","escapedNew":"\\"hi\\""}',  # a new field on the Python path
    ]
    rng = random.Random(20261130)  # many ordinary lines around the tricky ones
    for i in range(300):
        changes: dict[str, object] = {}
        if rng.random() < 0.3:
            changes["properties"] = {
                "price": rng.choice([9.95, 10.0, 0.5, 123.45, 1e-3, 7]),
                "products": [{"sku": f"s{j}", "quantity": j} for j in range(rng.randint(0, 3))],
            }
        if rng.random() < 0.1:
            changes["traits"] = {"email": f"p{i}@example.com", "optIn": rng.random() < 0.5}
        lines.insert(rng.randint(1, len(lines)), compact(event(1000 + i, **changes)).encode())
    return b"\n".join(lines) + b"\n"


def test_web_events_bulk_path_matches_the_python_path(tmp_path, monkeypatch):
    snapshot, bulk_rows = load_both_ways(tmp_path, monkeypatch, WEB, {"e.jsonl": tricky_jsonl()})
    reasons = {row[4] for row in snapshot["quarantine"][1]}
    assert {"empty line", "not a JSON object", "invalid UTF-8"} <= reasons
    assert any(r.startswith("invalid JSON: ") for r in reasons)
    assert any(r.startswith("invalid timestamp: ") for r in reasons)
    assert any(r.startswith("invalid type: ") for r in reasons)
    assert "missing required value: one of anonymous_id, user_id" in reasons
    assert "keys 'user_id' and 'userId' are both column user_id" in reasons
    assert "keys 'userId' and 'user_id' are both column user_id" in reasons
    assert "key '!!!' has no letter or digit to name a column" in reasons
    columns = snapshot["raw"][0]
    loaded = {row[columns.index("message_id")] for row in snapshot["raw"][1]}
    assert "c2" in loaded and not {"c1", "c3", "n1"} & loaded
    assert columns.index("new_field") < columns.index("another_one") < columns.index("later_field")
    assert columns.index("zeta") < columns.index("alpha")
    assert bulk_rows >= 300  # the ordinary lines went in bulk: the comparison was not vacuous


def test_web_events_bulk_path_matches_over_several_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "BULK_CHUNK_LINES", 7)
    data = tricky_jsonl()
    _, bulk_rows = load_both_ways(tmp_path, monkeypatch, WEB, {"a.jsonl": data, "b.json": b""})
    assert bulk_rows >= 300


HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Company Name,"
    "Job Title,Street Address,City,Postal Code,Country/Region,Create Date,Last Modified Date,"
    "Lifecycle Stage,Lead Status,Marketing email opt-in,Favourite Colour"
)


def contact(i: int, record_id: str | None = None, created: str = "2026-01-05 10:00") -> str:
    rid = str(1000 + i) if record_id is None else record_id
    return (
        f"{rid},Anna{i},de Vries,anna{i}@example.com,06-1234 5678,,Tuinhuis BV,,Dorpsstraat 1,"
        f"Utrecht,3511 AB,Netherlands,{created},2026-02-01 09:30,Lead,,true,groen"
    )


def tricky_crm() -> bytes:
    rows = [contact(i) for i in range(200)]
    tricky = [
        contact(300, created="2026-01-05 10:00:59"),
        contact(301, created="2026-02-30 10:00"),
        contact(302, created="2026-1-5 10:00"),  # strptime takes one digit
        contact(303, created=" 2026-01-05 10:00 "),
        contact(304, created="31/02/2026 25:99"),
        contact(305, created="2026-01-05T10:00"),
        contact(306, created=""),
        contact(307, record_id=""),
        contact(308, record_id="   "),
        contact(309, record_id="\u00a0"),
        contact(310, record_id="١٢٣"),
        '1311,"Quoted, with comma","de ""Vries""",q@example.com,,,,,,,,,2026-01-05 10:00,'
        "2026-02-01 09:30,Lead,,true,rood",
        '1312,"Two\nlines",X,ml@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,'
        'true,"blauw\nen\ngeel"',
        "1313,Bad,Fields,bad@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,true",
        "1314,Too,Many,x@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,true,a,b",
        "",
        "   ",
        '1315,ab"c,d,e@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,true,x',
        '1316,"closed"after,d,e@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,true,x',
        "1317,Nul\x00Byte,d,e@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,true,x",
        "1318,Carriage\rReturn,d,e@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,"
        "true,x",
        "1319,Zoë,Ünal,zoe@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,true,😀",
        "1320,Tab\there,x,t@example.com,,,,,,,,,2026-01-05 10:00,2026-02-01 09:30,Lead,,true,x",
    ]
    rng = random.Random(7)
    for line in tricky:
        rows.insert(rng.randint(0, len(rows)), line)
    body = "\r\n".join([HUBSPOT, *rows]).encode("utf-8")
    bad_utf8 = contact(400).encode("utf-8").replace(b"Anna400", b"Anna\xff400")
    unbalanced = b'1401,"never closed,x,' + b"\n".join(b"filler %d" % i for i in range(25))
    return b"\xef\xbb\xbf" + body + b"\r\n" + bad_utf8 + b"\n" + unbalanced + b"\n"


def test_crm_bulk_path_matches_the_python_path(tmp_path, monkeypatch):
    snapshot, bulk_rows = load_both_ways(tmp_path, monkeypatch, CRM, {"c.csv": tricky_crm()})
    reasons = {row[4] for row in snapshot["quarantine"][1]}
    assert "empty line" in reasons and "invalid UTF-8" in reasons
    assert any(r.startswith("wrong number of fields") for r in reasons)
    assert any(r.startswith("invalid create_date") for r in reasons)
    assert "favourite_colour" in snapshot["raw"][0]
    assert bulk_rows >= 150  # (a stray quote joins the lines after it into one bad record)


def test_crm_bulk_path_matches_in_a_declared_single_byte_encoding(tmp_path, monkeypatch):
    monkeypatch.setenv("KLANT_ENCODING_CRM", "cp1252")
    text = "\n".join([HUBSPOT, *(contact(i).replace("Anna", "Zoë") for i in range(50))]) + "\n"
    undecodable = text.encode("cp1252") + contact(99).encode("cp1252").replace(b"A", b"\x81")
    _, bulk_rows = load_both_ways(
        tmp_path, monkeypatch, CRM, {"a.csv": text.encode("cp1252"), "b.csv": undecodable}
    )
    assert bulk_rows >= 50


def test_orders_bulk_path_matches_the_python_path(tmp_path, monkeypatch):
    header = "Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,"
    header += "Lineitem name,Lineitem price,Paid at,Refunded Amount"
    good = "#{i},a{i}@example.com,paid,EUR,12.50,2026-09-27 13:27:23 +0200,1,Vaas,12.50,,0.00"
    rows = [good.format(i=i) for i in range(100)]
    for total in ("12,O0", "-5", "1.50", "١٢", " 3 ", "1e3", ".5", "5.", "", "+1"):
        rows.append(f'#t,t@example.com,paid,EUR,"{total}",2026-09-27 13:27:23 +0200,1,V,1,,')
        rows.append(f"#t,t@example.com,paid,EUR,{total},2026-09-27 13:27:23 +0200,1,V,1,,")
    for created in (
        "2026-09-27 13:27:23 +2400", "2026-09-27 13:27:23 -0530", "2026-02-29 13:27:23 +0000",
        "2026-09-27 13:27:23", "2026-09-27T13:27:23 +0200", "2026-09-27 13:27:60 +0200", "",
        "2026-09-27 13:27:23 +0260",
    ):  # fmt: skip
        rows.append(f"#c,c@example.com,paid,EUR,1.00,{created},1,V,1,{created},")
    data = ("\n".join([header, *rows]) + "\n").encode()
    _, bulk_rows = load_both_ways(tmp_path, monkeypatch, COMMERCE, {"orders.csv": data})
    assert bulk_rows >= 100


def test_dmp_bulk_path_matches_the_python_path(tmp_path, monkeypatch):
    header = "cookie_id,hashed_email,audience_code,audience_name,provider,fetched_at,expires_at"
    digest = "631ccf51947374bb73aec566fd51c767be6f7efda800cdd573829125c34b43d3"
    fetched = "2026-11-27T06:00:00+01:00"
    rows = [f"c-{i},,auto,Cars,hub,{fetched},2027-01-10T06:00:00+01:00" for i in range(60)]
    rows += [
        f",{digest},auto,Cars,hub,{fetched},2027-01-10T06:00:00+01:00",
        f",{digest.upper()},auto,Cars,hub,{fetched},2027-01-10T06:00:00Z",
        f",{digest[:-1]},auto,Cars,hub,{fetched},2027-01-10T06:00:00Z",
        f"c,,auto,Cars,hub,{fetched},2026-11-27T05:30:00+00:00",  # later, in UTC
        f"c,,auto,Cars,hub,{fetched},2026-11-27T05:00:00+00:00",  # the same instant
        f"c,,auto,Cars,hub,{fetched},2026-11-27T04:59:59.999999+00:00",
        f"c,,auto,Cars,hub,{fetched},2026-11-27",
        ",,auto,Cars,hub,2026-11-27T06:00:00Z,2027-01-10T06:00:00Z",
        "c,,,Cars,hub,2026-11-27T06:00:00Z,2027-01-10T06:00:00Z",
    ]
    data = ("\n".join([header, *rows]) + "\n").encode()
    _, bulk_rows = load_both_ways(tmp_path, monkeypatch, DMP, {"feed.csv": data})
    assert bulk_rows >= 60


def test_a_file_past_the_bad_share_is_refused_the_same_way(tmp_path, monkeypatch):
    monkeypatch.setenv("KLANT_MAX_BAD_ROW_SHARE", "0.05")
    lines = [compact(event(i)) for i in range(10)] + ["not json"] * 5
    snapshot, _ = load_both_ways(
        tmp_path, monkeypatch, WEB, {"bad.jsonl": ("\n".join(lines) + "\n").encode()}
    )
    assert [row[5] for row in snapshot["ledger"]] == ["refused"]
    assert snapshot["raw"][1] == [] and snapshot["quarantine"][1] == []


VALUES = [
    *TIMESTAMPS, "2026-01-05 10:00", "2026-01-05 10:00:00", "2026-02-30 10:00", "2026-1-5 10:00",
    "2026-01-05 24:00", "2026-09-27 13:27:23 +0200", "2026-09-27 13:27:23 -2359",
    "2026-09-27 13:27:23 +2400", "2026-02-29 13:27:23 +0000", "2024-02-29 13:27:23 +0000",
    "12.50", "-5", "1.", ".5", "١٢", "1e3", "0", "00012", "-0.0", "a" * 64, "A" * 64, "g" * 64,
    "0" * 63, "2026-01-06T09:34:24.588+00:00", "1000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
]  # fmt: skip


@pytest.mark.parametrize("parse", list(TYPED_VALUE_SQL), ids=lambda f: f.__name__)
def test_each_sql_twin_accepts_only_what_its_python_check_accepts(parse):
    template = TYPED_VALUE_SQL[parse]
    con = duckdb.connect()
    accepted = {
        value
        for (value,) in con.execute(
            f"select v from unnest(?::varchar[]) as t(v) "
            f"where coalesce({template.replace('{v}', 'v')}, false)",
            [VALUES],
        ).fetchall()
    }
    for value in accepted:
        parse(value)  # raises ValueError when the SQL twin took a value Python does not
    assert accepted  # each twin takes some plain form, else the bulk path would never load


def test_the_row_check_sql_twin_agrees_with_python():
    check = DMP.row_check
    template = ROW_CHECK_SQL[check]
    pairs = [
        ("2026-11-27T06:00:00+01:00", "2026-11-27T05:30:00+00:00"),
        ("2026-11-27T06:00:00+01:00", "2026-11-27T05:00:00+00:00"),
        ("2026-11-27T06:00:00+01:00", "2026-11-27T04:59:59.999999+00:00"),
        ("2026-11-27T06:00:00.000001Z", "2026-11-27T06:00:00Z"),
        ("2026-11-27T06:00:00-05:30", "2026-11-27T11:30:00.001Z"),
        (None, "2026-11-27T06:00:00Z"),
    ]
    con = duckdb.connect()
    sql = template.replace("{fetched_at}", "f").replace("{expires_at}", "e")
    for fetched, expires in pairs:
        (passes,) = con.execute(
            f"select coalesce({sql}, false) from (select ?::varchar as f, ?::varchar as e)",
            [fetched, expires],
        ).fetchone()
        python_passes = check({"fetched_at": fetched, "expires_at": expires}) is None
        assert not passes or python_passes, (fetched, expires)
        assert passes == python_passes, (fetched, expires)  # these are all plain ISO forms
