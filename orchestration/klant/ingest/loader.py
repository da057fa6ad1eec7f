"""Load landing files into append-only raw tables, once per file content, with a quarantine."""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from klant.ingest.sources import (
    ROW_CHECK_SQL,
    SOURCES,
    TYPED_VALUE_SQL,
    SourceSpec,
    snake_case,
)
from klant.settings import utc_now

log = logging.getLogger(__name__)

META_COLUMNS = ("_load_id", "_source_file", "_line_number", "_loaded_at")
MAX_RECORD_LINES = (
    20  # a quoted CSV field may span lines; an unbalanced quote must not eat the file
)
BATCH_ROWS = 50_000
_LINE_NUMBER_FIELD = pa.field("_line_number", pa.int64())
# one encoder for every nested value: json.dumps with options builds a new one per call
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
DEFAULT_MAX_BAD_SHARE = 0.05


class IngestRefused(Exception):
    """A landing file that klant will not load at all (nothing of it reaches raw)."""


@dataclass
class LoadResult:
    """What happened to one landing file."""

    source: str
    source_file: str
    file_sha256: str
    status: str  # loaded | skipped | refused
    load_id: str | None = None
    lines: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    new_columns: list[str] = field(default_factory=list)
    error: str | None = None
    encoding: str = "utf-8"


@dataclass
class _Record:
    line_number: int
    line_count: int
    text: str
    valid_utf8: bool


def max_bad_share() -> float:
    """Share of bad rows above which a file is refused whole (KLANT_MAX_BAD_ROW_SHARE)."""
    return float(os.environ.get("KLANT_MAX_BAD_ROW_SHARE", DEFAULT_MAX_BAD_SHARE))


def declared_encoding(spec: SourceSpec) -> str:
    """The text encoding a source's files are declared in: KLANT_ENCODING_<SOURCE>, else UTF-8."""
    name = os.environ.get(f"KLANT_ENCODING_{spec.name.upper()}", "utf-8")
    try:
        return codecs.lookup(name).name
    except LookupError as error:
        raise IngestRefused(
            f"KLANT_ENCODING_{spec.name.upper()}={name!r} is not a known encoding"
        ) from error


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, ledger, quarantine and every source table if they are missing."""
    con.execute("create schema if not exists raw")
    con.execute(
        """
        create table if not exists raw.load_ledger (
            load_id varchar primary key,
            source varchar not null,
            source_file varchar not null,
            file_sha256 varchar not null,
            file_bytes bigint not null,
            status varchar not null,
            lines bigint,
            rows_loaded bigint,
            rows_quarantined bigint,
            new_columns varchar,
            error varchar,
            loaded_at timestamp not null
        )
        """
    )
    con.execute("alter table raw.load_ledger add column if not exists encoding varchar")
    # the last size and modification time of each landing file whose bytes a load read, with
    # their hash: a file still there unchanged is skipped without reading it again (load_file)
    con.execute(
        """
        create table if not exists raw.landing_file_stats (
            source_file varchar primary key,
            file_bytes bigint not null,
            file_mtime_ns bigint not null,
            file_sha256 varchar not null,
            read_at timestamp not null
        )
        """
    )
    con.execute(
        """
        create table if not exists raw.quarantine (
            load_id varchar not null,
            source varchar not null,
            source_file varchar not null,
            line_number bigint not null,
            reason varchar not null,
            raw_line varchar,
            quarantined_at timestamp not null
        )
        """
    )
    for spec in SOURCES:  # a table made before zstd_columns keeps its columns' compression
        cols = ", ".join(
            f'"{c}" varchar' + (" using compression zstd" if c in spec.zstd_columns else "")
            for c in (*spec.columns, *spec.derived_columns)
        )
        con.execute(
            f"create table if not exists raw.{spec.table} ({cols}, _load_id varchar, "
            "_source_file varchar, _line_number bigint, _loaded_at timestamp)"
        )


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def landing_files(spec: SourceSpec, landing_dir: Path) -> list[Path]:
    """The files of one source in the landing folder, in name order."""
    folder = landing_dir / spec.folder
    if not folder.is_dir():
        return []
    found = {p for pattern in spec.patterns for p in folder.glob(pattern) if p.is_file()}
    return sorted(found)


RowTransform = Callable[[dict[str, str | None]], dict[str, str | None]]


def load_source(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    landing_dir: Path,
    transform: RowTransform | None = None,
) -> list[LoadResult]:
    """Load every new file of a source; refused files are reported, the others still load.

    `transform` rewrites each good row before it is stored (a ValueError quarantines the row);
    a source with redacted columns must have one, so those columns never reach raw.
    """
    if spec.redacted_columns and transform is None:
        raise IngestRefused(f"{spec.name}: redacted columns need a row transform")
    ensure_raw_schema(con)
    return [
        load_file(con, spec, path, landing_dir, transform)
        for path in landing_files(spec, landing_dir)
    ]


def load_file(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    path: Path,
    landing_dir: Path,
    transform: RowTransform | None = None,
) -> LoadResult:
    """Load one file in a single transaction; a file already loaded (same bytes) is skipped.

    A file read before under the same name, size and modification time (to the nanosecond) is
    skipped without being read, when the load of those bytes stands: landing folders keep every
    export, and hashing them all again on every run (10 GB of web events at a million people)
    would cost more than loading a day. Any other file is read and hashed, so the same bytes
    under another name, or touched, still skip.
    """
    try:
        source_file = str(path.relative_to(landing_dir))
    except ValueError:
        source_file = str(path)
    encoding = declared_encoding(spec)
    stat = path.stat()
    seen = con.execute(
        "select l.load_id, l.file_sha256 from raw.landing_file_stats as f "
        "join raw.load_ledger as l on l.file_sha256 = f.file_sha256 and l.status = 'loaded' "
        "where f.source_file = ? and f.file_bytes = ? and f.file_mtime_ns = ?",
        [source_file, stat.st_size, stat.st_mtime_ns],
    ).fetchone()
    if seen:
        return LoadResult(
            source=spec.name,
            source_file=source_file,
            file_sha256=seen[1],
            status="skipped",
            load_id=seen[0],
            encoding=encoding,
        )
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    result = LoadResult(
        source=spec.name,
        source_file=source_file,
        file_sha256=sha,
        status="",
        encoding=encoding,
    )
    done = con.execute(
        "select load_id from raw.load_ledger where file_sha256 = ? and status = 'loaded'", [sha]
    ).fetchone()
    if done:
        result.status, result.load_id = "skipped", done[0]
        _remember_file(con, result, stat)
        return result

    result.load_id = f"{spec.name}-{sha[:20]}"
    loaded_at = utc_now()
    con.begin()
    try:
        _load_records(con, spec, data, result, loaded_at, transform)
        bad_share = result.rows_quarantined / result.lines if result.lines else 0.0
        if bad_share > max_bad_share():
            raise IngestRefused(
                f"{source_file}: {result.rows_quarantined} of {result.lines} rows are bad "
                f"({bad_share:.1%} > the allowed {max_bad_share():.1%}); the file is refused whole"
            )
    except IngestRefused as refused:
        con.rollback()
        result.status, result.error = "refused", str(refused)
        result.rows_loaded = result.rows_quarantined = 0
        _write_ledger(con, result, len(data), loaded_at, refused_id=True)
        return result
    except BaseException:
        con.rollback()
        raise
    result.status = "loaded"
    _write_ledger(con, result, len(data), loaded_at)
    _remember_file(con, result, stat)
    con.commit()
    return result


def _remember_file(con: duckdb.DuckDBPyConnection, result: LoadResult, stat: os.stat_result):
    """The size and time of a file whose bytes stand loaded, so the next run need not read it."""
    con.execute(
        "insert or replace into raw.landing_file_stats values (?, ?, ?, ?, ?)",
        [result.source_file, stat.st_size, stat.st_mtime_ns, result.file_sha256, utc_now()],
    )


def _write_ledger(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    size: int,
    loaded_at: datetime,
    refused_id: bool = False,
) -> None:
    load_id = result.load_id
    if refused_id:  # a refused file may be retried after a fix; keep every attempt on record
        load_id = f"{result.load_id}-refused-{loaded_at:%Y%m%dT%H%M%S%f}"
    con.execute(
        "insert into raw.load_ledger (load_id, source, source_file, file_sha256, file_bytes, "
        "status, lines, rows_loaded, rows_quarantined, new_columns, error, loaded_at, encoding) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id, result.source, result.source_file, result.file_sha256, size,
            result.status, result.lines, result.rows_loaded, result.rows_quarantined,
            ",".join(result.new_columns) or None, result.error, loaded_at, result.encoding,
        ],
    )  # fmt: skip


def _physical_lines(data: bytes, encoding: str) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, decodable) for every physical line; a final newline ends no line."""
    if encoding == "utf-8" and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    chunks = data.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    for number, chunk in enumerate(chunks, start=1):
        chunk = chunk.removesuffix(b"\r")
        try:
            yield number, chunk.decode(encoding), True
        except UnicodeDecodeError:
            yield number, chunk.decode(encoding, errors="backslashreplace"), False


def _csv_records(lines: Iterator[tuple[int, str, bool]]) -> Iterator[_Record]:
    """Join physical lines into CSV records: a quoted field may hold a newline."""
    pending: list[tuple[int, str, bool]] = []
    for line in lines:
        if not pending and line[1].count('"') % 2 == 0:  # most records are one line
            yield _Record(line[0], 1, line[1], line[2])
            continue
        pending.append(line)
        text = "\n".join(t for _, t, _ in pending)
        if text.count('"') % 2 == 0 or len(pending) >= MAX_RECORD_LINES:
            yield _Record(pending[0][0], len(pending), text, all(ok for *_, ok in pending))
            pending = []
    if pending:
        text = "\n".join(t for _, t, _ in pending)
        yield _Record(pending[0][0], len(pending), text, all(ok for *_, ok in pending))


class _Batch:
    """Rows of one file on their way to raw, flushed in batches inside the file's transaction."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        spec: SourceSpec,
        result: LoadResult,
        at,
        transform: RowTransform | None = None,
    ):
        self.con, self.table, self.result, self.at = con, spec.table, result, at
        self.withhold_text = bool(spec.redacted_columns)
        self.transform = transform
        self.rows: list[dict[str, str | None]] = []
        self.quarantine: list[tuple[int, str, str]] = []

    def add(self, record: _Record, row: dict[str, str | None]) -> None:
        if self.transform is not None:
            try:
                row = self.transform(row)
            except ValueError as error:
                self.reject(record, str(error))
                return
        row["_line_number"] = record.line_number
        self.rows.append(row)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def reject(self, record: _Record, reason: str) -> None:
        text = record.text
        if self.withhold_text:  # the line holds an identifier klant must not keep in clear
            digest = hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()
            text = f"[withheld: {len(text)} characters, sha256 {digest}]"
        self.quarantine.append((record.line_number, reason, text))
        self.result.rows_quarantined += 1

    def flush(self) -> None:
        if self.rows:
            columns = [c for c in table_columns(self.con, self.table) if c not in META_COLUMNS]
            # Arrow turns the dicts into columns in C++ (a missing key is a null), several
            # times faster than a Python list per column
            row_type = pa.struct([(c, pa.string()) for c in columns] + [_LINE_NUMBER_FIELD])
            batch = pa.Table.from_struct_array(  # noqa: F841 - read by the SQL below
                pa.array(self.rows, type=row_type)
            )
            names = ", ".join(f'"{c}"' for c in columns)
            self.con.execute(
                f"insert into raw.{self.table} ({names}, _load_id, _source_file, _line_number, "
                f"_loaded_at) select {names}, ?, ?, _line_number, ? from batch",
                [self.result.load_id, self.result.source_file, self.at],
            )
            self.result.rows_loaded += len(self.rows)
            self.rows = []
        if self.quarantine:
            self.con.executemany(
                "insert into raw.quarantine values (?, ?, ?, ?, ?, ?, ?)",
                [
                    (self.result.load_id, self.result.source, self.result.source_file,
                     number, reason, text, self.at)
                    for number, reason, text in self.quarantine
                ],
            )  # fmt: skip
            self.quarantine = []


def _add_columns(con: duckdb.DuckDBPyConnection, spec: SourceSpec, names: list[str]) -> list[str]:
    existing = set(table_columns(con, spec.table))
    added = [n for n in dict.fromkeys(names) if n not in existing]
    for name in added:
        con.execute(f'alter table raw.{spec.table} add column "{name}" varchar')
    return added


def _check_row(spec: SourceSpec, row: dict[str, str | None]) -> str | None:
    """The reason a parsed row may not load, or None when it is good."""
    for column in spec.required_values:
        if not (row.get(column) or "").strip():
            return f"missing required value: {column}"
    for column, allowed in spec.allowed_values.items():
        if row.get(column) not in allowed:
            return f"invalid {column}: {row.get(column)!r} (expected one of {sorted(allowed)})"
    for group in spec.one_of:
        if not any((row.get(c) or "").strip() for c in group):
            return f"missing required value: one of {', '.join(group)}"
    for column, parse in spec.typed_values.items():
        value = row.get(column)
        if value is not None and value.strip():
            try:
                parse(value.strip())  # type: ignore[operator]
            except ValueError as error:
                return f"invalid {column}: {error}"
    if spec.row_check is not None:
        return spec.row_check(row)
    return None


def _load_records(
    con, spec: SourceSpec, data: bytes, result: LoadResult, at, transform: RowTransform | None
) -> None:
    batch = _Batch(con, spec, result, at, transform)
    # the bulk path in DuckDB, for every source without a row transform (privacy requests);
    # it loads what it can prove good and hands every other line to the per-line Python path
    lines = _line_array(data, result.encoding) if transform is None else None
    if lines is not None and spec.file_format == "jsonl":
        _load_jsonl_bulk(con, spec, lines, result, batch)
    elif lines is not None and _load_csv_bulk(con, spec, lines, result, batch):
        pass  # False: a header over several lines or of one column: the Python path
    elif spec.file_format == "csv":
        _load_csv(con, spec, data, result, batch)
    else:
        _load_jsonl(con, spec, data, result, batch)
    batch.flush()


def _csv_header(spec: SourceSpec, header_record: _Record | None, result: LoadResult) -> list[str]:
    """The raw column names of a CSV file's header record; a bad header refuses the file."""
    if header_record is None:
        raise IngestRefused(f"{result.source_file}: empty file, no header row")
    header_raw = next(csv.reader([header_record.text]))
    header = [snake_case(h) or f"unnamed_{i + 1}" for i, h in enumerate(header_raw)]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise IngestRefused(f"{result.source_file}: duplicate column(s) {', '.join(duplicated)}")
    missing = [c for c in spec.required_columns if c not in header]
    if missing:
        raise IngestRefused(
            f"{result.source_file}: missing required column(s) {', '.join(missing)} "
            f"(the header has: {', '.join(header_raw)})"
        )
    return header


def _add_header_columns(con, spec: SourceSpec, header: list[str], result: LoadResult) -> None:
    stored = [h for h in header if h not in spec.redacted_columns]
    result.new_columns = _add_columns(con, spec, stored)
    for column in result.new_columns:
        log.warning("%s: new column %r kept in raw.%s", result.source_file, column, spec.table)


def _unreadable(record: _Record, encoding: str) -> str | None:
    """Why a record cannot be read at all (bad bytes, nothing on the line), else None."""
    if not record.valid_utf8:
        return f"invalid {encoding.upper()}"
    if not record.text.strip():
        return "empty line"
    return None


def _csv_row(
    spec: SourceSpec, header: list[str], record: _Record, encoding: str
) -> tuple[dict[str, str | None] | None, str | None]:
    """A CSV record as a row, or the reason it may not load."""
    unreadable = _unreadable(record, encoding)
    if unreadable:
        return None, unreadable
    try:
        fields = next(csv.reader([record.text], strict=True))
    except csv.Error as error:
        return None, f"unparseable CSV: {error}"
    if len(fields) != len(header):
        return None, f"wrong number of fields: expected {len(header)}, got {len(fields)}"
    row = {c: (v if v != "" else None) for c, v in zip(header, fields, strict=True)}
    reason = _check_row(spec, row)
    return (None, reason) if reason else (row, None)


def _load_csv(con, spec: SourceSpec, data: bytes, result: LoadResult, batch: _Batch) -> None:
    records = _csv_records(_physical_lines(data, result.encoding))
    header = _csv_header(spec, next(records, None), result)
    _add_header_columns(con, spec, header, result)
    for record in records:
        result.lines += record.line_count
        row, reason = _csv_row(spec, header, record, result.encoding)
        if row is None:
            batch.reject(record, reason)  # type: ignore[arg-type]
        else:
            batch.add(record, row)


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _encode_json(value)
    return str(value)


def _json_row(
    spec: SourceSpec, record: _Record, encoding: str
) -> tuple[dict[str, str | None] | None, str | None]:
    """A JSON line as a row (keys as raw column names), or the reason it may not load."""
    unreadable = _unreadable(record, encoding)
    if unreadable:
        return None, unreadable
    try:
        obj = json.loads(record.text)
    except json.JSONDecodeError as error:
        return None, f"invalid JSON: {error.msg} at column {error.colno}"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    row: dict[str, str | None] = {}
    key_of: dict[str, str] = {}
    for key, value in obj.items():
        column = spec.json_keys.get(key) or snake_case(key)
        if not column:
            return None, f"key {key!r} has no letter or digit to name a column"
        if column in key_of:  # one value would silently replace the other
            return None, f"keys {key_of[column]!r} and {key!r} are both column {column}"
        key_of[column] = key
        row[column] = _json_text(value)
    reason = _check_row(spec, row)
    return (None, reason) if reason else (row, None)


def _load_jsonl(con, spec: SourceSpec, data: bytes, result: LoadResult, batch: _Batch) -> None:
    known = set(table_columns(con, spec.table))
    for number, text, valid in _physical_lines(data, result.encoding):
        record = _Record(number, 1, text, valid)
        result.lines += 1
        row, reason = _json_row(spec, record, result.encoding)
        if row is None:
            batch.reject(record, reason)  # type: ignore[arg-type]
            continue
        unknown = [c for c in row if c not in known]
        if unknown:
            batch.flush()  # rows so far go in under the old column list
            added = _add_columns(con, spec, unknown)
            known.update(added)
            result.new_columns.extend(added)
            for column in added:
                log.warning(
                    "%s: new field %r kept in raw.%s", result.source_file, column, spec.table
                )
        batch.add(record, row)


# ---------------------------------------------------------------------------------------------
# The bulk path. DuckDB reads every line and proves most of them good with SQL twins of the
# Python rules; it never decides that a line is bad. Every line it cannot prove good (bad ones,
# and good ones in a form the SQL does not cover) goes through _json_row / _csv_row above, so
# each quarantine reason, and each row of an unusual line, is the Python path's own.

BULK_CHUNK_LINES = 500_000  # lines per DuckDB pass: bounds memory on files of millions of lines
# lines per Arrow record batch of a pass: DuckDB scans an Arrow table's batches in parallel (one
# batch is one thread's work), and keeps their order in what it inserts
BULK_BATCH_LINES = 20_000
# UTF-8, and single-byte codes (decoded whole, the same characters as line by line: a file that
# does not decode whole goes the Python way); any other declared encoding goes the Python way
_BULK_ENCODINGS = ("utf-8", "ascii")
_BULK_ENCODING_FAMILIES = ("iso8859-", "cp125")
# JSON lines DuckDB reads differently from Python, or re-encodes differently from _json_text:
# escapes and control characters, numbers with an exponent, of 16+ characters or below 0.0001
# (Python writes those in another notation), NaN and Infinity (DuckDB also takes nan and inf),
# and trailing commas (DuckDB takes them, Python does not). Strings hold no quote here (no
# backslash), so a number token is always after ':', ',' or '['.
_JSON_DOUBTFUL = (
    r"[\x00-\x1f\\]|, *[\]}]"
    r"|[:,\[] *-?([0-9]+(\.[0-9]+)?[eE]|0\.0000|[0-9.]{16,}|[nN][aA][nN]|[iI][nN][fF])"
)
# a line with this many '{' and '[' may nest deeper than Python's recursion limit (json.loads
# and _json_text fail there): it goes the Python way
_JSON_DEEP = 500
# CSV lines whose fields are not simply the text between commas to Python's csv module
_CSV_DOUBTFUL = r'["\r\n\x00]'


@dataclass
class _Lines:
    """The physical lines of a file as Arrow arrays, decoded text where it decodes."""

    text: pa.Array  # large_string, null where the line does not decode
    raw: pa.Array  # large_binary, the line's bytes (for the Python path's own decoding)
    encoding: str

    def record(self, index: int) -> _Record:
        text = self.text[index].as_py()
        if text is not None:
            return _Record(index + 1, 1, text, True)
        chunk = self.raw[index].as_py()
        return _Record(index + 1, 1, chunk.decode(self.encoding, errors="backslashreplace"), False)

    def records(self, first: int, count: int) -> _Record:
        """The CSV record of `count` lines from index `first` (a quoted field over lines)."""
        parts = [self.record(i) for i in range(first, first + count)]
        return _Record(
            first + 1, count, "\n".join(r.text for r in parts), all(r.valid_utf8 for r in parts)
        )


def _line_array(data: bytes, encoding: str) -> _Lines | None:
    """The file's lines as _physical_lines gives them, in Arrow; None: not for the bulk path."""
    if encoding not in _BULK_ENCODINGS and not encoding.startswith(_BULK_ENCODING_FAMILIES):
        return None
    start = 0
    if encoding == "utf-8":
        start = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # the BOM, without a copy
    else:  # a single-byte code: line by line or whole, the same characters
        try:
            data = data.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            return None
    offsets = np.array([start, len(data)], np.int64)
    whole = pa.Array.from_buffers(
        pa.large_binary(), 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    raw = pc.list_flatten(pc.split_pattern(whole, b"\n"))
    if len(raw) and raw[-1].as_py() == b"":
        raw = raw.slice(0, len(raw) - 1)  # a final newline ends no line
    if b"\r" in data:  # CRLF: the line ends without its carriage return
        raw = pc.replace_substring_regex(raw, pattern="\r$", replacement="", max_replacements=1)
    try:
        text = raw.cast(pa.large_string())
    except pa.ArrowInvalid:  # some line is no UTF-8: find which, each on its own
        valid = []
        for chunk in raw.to_pylist():
            try:
                chunk.decode("utf-8")
                valid.append(True)
            except UnicodeDecodeError:
                valid.append(False)
        mask = pa.array(valid, pa.bool_())
        text = pc.if_else(mask, raw, pa.scalar(None, pa.large_binary())).cast(pa.large_string())
    return _Lines(text=text, raw=raw, encoding=encoding)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(map(_sql_text, values)) + "]::varchar[]"


def _not_space(expr: str) -> str:
    """SQL true only for text str.strip() leaves something of (a plain first character)."""
    return f"coalesce(ascii({expr}) between 33 and 126, false)"


def _good_row_sql(spec: SourceSpec, columns: dict[str, str]) -> str:
    """SQL true only for a row _check_row certainly passes; `columns`: column -> expression."""

    def col(name: str) -> str:
        return columns.get(name, "null::varchar")

    parts = [_not_space(col(c)) for c in spec.required_values]
    for column, allowed in spec.allowed_values.items():
        values = ", ".join(_sql_text(v) for v in sorted(allowed))
        parts.append(f"coalesce({col(column)} in ({values}), false)")
    for group in spec.one_of:
        parts.append("(" + " or ".join(_not_space(col(c)) for c in group) + ")")
    for column, parse in spec.typed_values.items():
        check = TYPED_VALUE_SQL.get(parse)
        expr = col(column)
        checked = "false" if check is None else f"coalesce({check.replace('{v}', expr)}, false)"
        parts.append(f"({expr} is null or {checked})")
    if spec.row_check is not None:
        check = ROW_CHECK_SQL.get(spec.row_check, "false")
        for name in sorted({*spec.columns, *columns}, key=len, reverse=True):
            check = check.replace("{" + name + "}", col(name))
        parts.append(f"coalesce({check}, false)")
    return " and ".join(f"({p})" for p in parts) or "true"


def _bulk_chunks(count: int) -> Iterator[tuple[int, int]]:
    for start in range(0, count, BULK_CHUNK_LINES):
        yield start, min(count, start + BULK_CHUNK_LINES)


def _register_chunk(
    con, lines: _Lines, start: int, stop: int, simple: pa.Array | None = None
) -> None:
    """Lines [start, stop) as the view klant_bulk_chunk (_n: line number, _line, _simple).

    Every name the bulk SQL makes up starts with '_', as no file column can (snake_case).
    """
    columns = {
        "_n": pa.array(np.arange(start + 1, stop + 1, dtype=np.int64)),
        "_line": lines.text.slice(start, stop - start),
    }
    if simple is not None:
        columns["_simple"] = simple.slice(start, stop - start)
    batches = pa.table(columns).to_batches(max_chunksize=BULK_BATCH_LINES)
    con.register("klant_bulk_chunk", pa.Table.from_batches(batches))


def _drop_chunk(con) -> None:
    con.unregister("klant_bulk_chunk")
    con.execute("drop table if exists klant_bulk_lines")
    con.execute("drop table if exists klant_bulk_rows")


def _add_new_columns(
    con, spec: SourceSpec, result: LoadResult, firsts: list[tuple[int, int, str]]
) -> None:
    """Add the columns first seen in good rows, in the order the Python path meets them."""
    known = set(table_columns(con, spec.table))
    seen: dict[str, tuple[int, int]] = {}
    for line_number, position, column in firsts:
        if column not in known and (line_number, position) < seen.get(column, (2**62, 0)):
            seen[column] = (line_number, position)
    ordered = sorted(seen, key=seen.__getitem__)
    added = _add_columns(con, spec, ordered)
    result.new_columns.extend(added)
    for column in added:
        log.warning("%s: new field %r kept in raw.%s", result.source_file, column, spec.table)


def _insert_bulk(
    con,
    spec: SourceSpec,
    result: LoadResult,
    at,
    columns: list[str],
    rows: str,
    start: int,
    stop: int,
) -> np.ndarray:
    """Insert the good rows of the query `rows` (_n, the columns, _good) of lines [start, stop);
    their line numbers.

    The line numbers are read back from the table rather than taken with `returning`: an insert
    with `returning` is kept whole in the transaction's memory and written twice at commit (the
    log, then the table), where a plain insert writes its row groups to the file as it goes
    (one month of web events at a million people, 1.16M lines: inserts and commit 7.9 -> 4.4 s).
    """
    names = ", ".join(f'"{c}"' for c in columns)
    count = con.execute(
        f"insert into raw.{spec.table} ({names}, _load_id, _source_file, _line_number, "
        f"_loaded_at) select {names}, ?, ?, _n, ? from ({rows}) where _good",
        [result.load_id, result.source_file, at],
    ).fetchone()[0]
    # the rows of this load in these lines are the ones just inserted: the Python path adds its
    # rows of a chunk after the bulk insert of that chunk
    inserted = con.execute(
        f"select _line_number from raw.{spec.table} where _load_id = ? "
        "and _line_number between ? and ?",
        [result.load_id, start + 1, stop],
    ).fetchnumpy()["_line_number"]
    if len(inserted) != count:
        raise RuntimeError(
            f"{result.source_file}: {count} rows inserted in lines {start + 1}-{stop}, "
            f"{len(inserted)} found there"
        )
    result.rows_loaded += count
    return np.asarray(inserted, dtype=np.int64)


def _not_inserted(start: int, stop: int, inserted: np.ndarray) -> list[int]:
    """Line numbers start + 1 .. stop that the bulk insert left to the Python path."""
    rest = np.ones(stop - start, dtype=bool)
    rest[inserted - start - 1] = False
    return (np.flatnonzero(rest) + start + 1).tolist()


def _load_jsonl_bulk(con, spec: SourceSpec, lines: _Lines, result: LoadResult, batch: _Batch):
    result.lines = len(lines.text)
    for start, stop in _bulk_chunks(len(lines.text)):
        _register_chunk(con, lines, start, stop)
        try:
            _load_jsonl_chunk(con, spec, lines, start, stop, result, batch)
        finally:
            _drop_chunk(con)


def _load_jsonl_chunk(
    con, spec: SourceSpec, lines: _Lines, start: int, stop: int, result: LoadResult, batch: _Batch
) -> None:
    # the keys of each line DuckDB reads as Python does and that has no key twice in any
    # object (a duplicate key is last-wins to Python); null for every other line
    con.execute(
        f"""
        create temp table klant_bulk_lines as
        select _n,
            case when list_unique(_keys) = len(_keys) and coalesce(list_bool_and(list_transform(
                list_filter(_nested, lambda k: len(k) > 1), lambda k: list_unique(k) = len(k)
            )), true) then _keys end as _keys
        from (
            select _n, _keys,
                case when _keys is not null then json_keys(_line, '$..*') end as _nested
            from (
                select _n, _line,
                    case when _line is not null and starts_with(ltrim(_line), '{{')
                        and not regexp_matches(_line, '{_JSON_DOUBTFUL}')
                        and (strlen(_line) < {2 * _JSON_DEEP} or strlen(_line) - strlen(
                            replace(replace(_line, '{{', ''), '[', '')) < {_JSON_DEEP})
                        then try(json_keys(_line)) end as _keys
                from klant_bulk_chunk
            )
        )
        """
    )
    found = [
        r[0] for r in con.execute("select distinct unnest(_keys) from klant_bulk_lines").fetchall()
    ]
    column_of = {k: spec.json_keys.get(k) or snake_case(k) for k in found}
    keys_of: dict[str, list[str]] = {}
    for key, column in column_of.items():
        keys_of.setdefault(column, []).append(key)
    # a key with no column name, or two keys of one column in a line: the Python path
    doubtful = ["false"]
    if "" in keys_of:
        doubtful.append(f"list_has_any(_keys, {_sql_list(keys_of.pop(''))})")
    doubtful += [
        f"len(list_intersect(_keys, {_sql_list(group)})) > 1"
        for group in keys_of.values()
        if len(group) > 1
    ]
    extracted = [k for group in keys_of.values() for k in group]
    index = {k: i + 1 for i, k in enumerate(extracted)}
    select = "".join(
        f', coalesce({", ".join(f"_v[{index[k]}]" for k in group)}) as "{column}"'
        for column, group in keys_of.items()
    )
    good = _good_row_sql(spec, {c: f'"{c}"' for c in keys_of})
    paths = _sql_list([f'$."{k}"' for k in extracted])
    rows = f"""
        select *, coalesce({good}, false) as _good
        from (
            select _n, _keys{select}
            from (
                select _n, _keys, json_extract_string(_line, {paths}) as _v
                from klant_bulk_chunk join klant_bulk_lines using (_n)
                where _keys is not null and not ({" or ".join(doubtful)})
            )
        )
    """
    known = set(table_columns(con, spec.table))
    new_keys = [k for k in extracted if column_of[k] not in known]
    if keys_of and new_keys:  # where each new field first is in a good row orders the columns
        con.execute(f"create temp table klant_bulk_rows as {rows}")
        rows = "select * from klant_bulk_rows"
        firsts = [
            (number, position, column_of[key])
            for number, position, key in con.execute(
                "select _n, _i, _k from (select _n, unnest(_keys) as _k, "
                "generate_subscripts(_keys, 1) as _i from klant_bulk_rows where _good) "
                "where list_contains(?, _k) "
                "qualify row_number() over (partition by _k order by _n) = 1",
                [new_keys],
            ).fetchall()
        ]
        good_numbers = con.execute("select _n from klant_bulk_rows where _good").fetchnumpy()
        rest = _not_inserted(start, stop, np.asarray(good_numbers["_n"], dtype=np.int64))
    else:  # no new field in the bulk rows: in they go, before the Python path's rows
        firsts = []
        inserted = np.zeros(0, dtype=np.int64)
        if keys_of:
            inserted = _insert_bulk(con, spec, result, batch.at, list(keys_of), rows, start, stop)
        rest = _not_inserted(start, stop, inserted)
    python_rows = []
    for number in rest:
        record = lines.record(number - 1)
        row, reason = _json_row(spec, record, lines.encoding)
        if row is None:
            batch.reject(record, reason)  # type: ignore[arg-type]
        else:
            python_rows.append((record, row))
    firsts += [
        (record.line_number, i, column)
        for record, row in python_rows
        for i, column in enumerate(row)
        if column not in known
    ]
    _add_new_columns(con, spec, result, firsts)
    if keys_of and new_keys:
        _insert_bulk(con, spec, result, batch.at, list(keys_of), rows, start, stop)
    for record, row in python_rows:
        batch.add(record, row)


def _csv_multiline(quotes: np.ndarray) -> dict[int, int]:
    """{first line index: line count} of the records over several lines, as _csv_records joins."""
    groups: dict[int, int] = {}
    odd = np.flatnonzero(quotes % 2 == 1)
    end = 0
    for first in odd.tolist():
        if first < end:
            continue
        total, count = 0, 0
        while first + count < len(quotes):
            total += int(quotes[first + count])
            count += 1
            if total % 2 == 0 or count >= MAX_RECORD_LINES:
                break
        groups[first] = count
        end = first + count
    return groups


def _load_csv_bulk(con, spec: SourceSpec, lines: _Lines, result: LoadResult, batch: _Batch):
    quotes = pc.count_substring(lines.raw, '"').to_numpy(zero_copy_only=False)
    if len(quotes) and quotes[0] % 2 == 1:
        return False  # the header is a record over several lines
    header = _csv_header(spec, lines.record(0) if len(quotes) else None, result)
    if len(header) < 2:  # one column: a line of spaces would be one field, not an empty line
        return False
    _add_header_columns(con, spec, header, result)
    result.lines = len(quotes) - 1
    multiline = _csv_multiline(quotes[1:])
    inside = np.zeros(len(quotes), dtype=bool)
    for first, count in multiline.items():
        inside[first + 1 : first + 1 + count] = True
    simple = pc.and_not(pc.is_valid(lines.text), pc.match_substring_regex(lines.raw, _CSV_DOUBTFUL))
    simple = pc.and_(simple, pa.array(~inside))
    stored = [h for h in header if h not in spec.redacted_columns]
    good = _good_row_sql(spec, {c: f'"{c}"' for c in header})
    split = "string_split(_line, ',')"
    select = ", ".join(f"nullif(_f[{i + 1}], '') as \"{c}\"" for i, c in enumerate(header))
    rows = f"""
        select *, coalesce({good}, false) as _good
        from (
            select _n, {select}
            from (select _n, {split} as _f from klant_bulk_chunk where _simple)
            where len(_f) = {len(header)}
        )
    """
    python_lines = []
    for start, stop in _bulk_chunks(len(quotes)):
        start = max(start, 1)  # the header is no row
        _register_chunk(con, lines, start, stop, simple)
        try:
            inserted = _insert_bulk(con, spec, result, batch.at, stored, rows, start, stop)
        finally:
            _drop_chunk(con)
        python_lines += [n - 1 for n in _not_inserted(start, stop, inserted)]
    for index in python_lines:
        if inside[index] and index - 1 not in multiline:
            continue  # a later line of a record over several lines
        count = multiline.get(index - 1, 1)
        record = lines.records(index, count)
        row, reason = _csv_row(spec, header, record, lines.encoding)
        if row is None:
            batch.reject(record, reason)  # type: ignore[arg-type]
        else:
            batch.add(record, row)
    return True
