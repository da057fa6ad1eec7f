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
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from klant.ingest.sources import SOURCES, SourceSpec, snake_case

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
    for spec in SOURCES:
        cols = ", ".join(f'"{c}" varchar' for c in (*spec.columns, *spec.derived_columns))
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
    """Load one file in a single transaction; a file already loaded (same bytes) is skipped."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    try:
        source_file = str(path.relative_to(landing_dir))
    except ValueError:
        source_file = str(path)
    result = LoadResult(
        source=spec.name,
        source_file=source_file,
        file_sha256=sha,
        status="",
        encoding=declared_encoding(spec),
    )
    done = con.execute(
        "select load_id from raw.load_ledger where file_sha256 = ? and status = 'loaded'", [sha]
    ).fetchone()
    if done:
        result.status, result.load_id = "skipped", done[0]
        return result

    result.load_id = f"{spec.name}-{sha[:20]}"
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
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
    con.commit()
    return result


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
    if spec.file_format == "csv":
        _load_csv(con, spec, data, result, batch)
    else:
        _load_jsonl(con, spec, data, result, batch)
    batch.flush()


def _load_csv(con, spec: SourceSpec, data: bytes, result: LoadResult, batch: _Batch) -> None:
    records = _csv_records(_physical_lines(data, result.encoding))
    header_record = next(records, None)
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
    stored = [h for h in header if h not in spec.redacted_columns]
    result.new_columns = _add_columns(con, spec, stored)
    for column in result.new_columns:
        log.warning("%s: new column %r kept in raw.%s", result.source_file, column, spec.table)
    for record in records:
        result.lines += record.line_count
        if not record.valid_utf8:
            batch.reject(record, f"invalid {result.encoding.upper()}")
            continue
        if not record.text.strip():
            batch.reject(record, "empty line")
            continue
        try:
            fields = next(csv.reader([record.text], strict=True))
        except csv.Error as error:
            batch.reject(record, f"unparseable CSV: {error}")
            continue
        if len(fields) != len(header):
            batch.reject(
                record, f"wrong number of fields: expected {len(header)}, got {len(fields)}"
            )
            continue
        row = {c: (v if v != "" else None) for c, v in zip(header, fields, strict=True)}
        reason = _check_row(spec, row)
        if reason:
            batch.reject(record, reason)
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


def _load_jsonl(con, spec: SourceSpec, data: bytes, result: LoadResult, batch: _Batch) -> None:
    known = set(table_columns(con, spec.table))
    for number, text, valid in _physical_lines(data, result.encoding):
        record = _Record(number, 1, text, valid)
        result.lines += 1
        if not valid:
            batch.reject(record, f"invalid {result.encoding.upper()}")
            continue
        if not text.strip():
            batch.reject(record, "empty line")
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as error:
            batch.reject(record, f"invalid JSON: {error.msg} at column {error.colno}")
            continue
        if not isinstance(obj, dict):
            batch.reject(record, "not a JSON object")
            continue
        row = {spec.json_keys.get(k) or snake_case(k): _json_text(v) for k, v in obj.items()}
        reason = _check_row(spec, row)
        if reason:
            batch.reject(record, reason)
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
