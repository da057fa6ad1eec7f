"""Remove every trace of a set of identifiers from every layer: build file, snapshots, exports.

Two kinds of input:

- the **suppression list** (``privacy.suppression_list``): keyed hashes of identifier keys
  (klant.privacy.keys). Every run, every raw row carrying a suppressed identifier is deleted,
  however it came back (a re-loaded old export, a new file). This needs no identifier in clear.
- **tokens**: the clear values that name a person or visitor (identifier keys and values, their
  raw spellings, person and visitor ids, the SHA-256 forms activation exports). They live only in
  a temporary table of this process. Every row of every table of the build file, of every
  published snapshot and of every export file that holds a token in any text column is removed;
  check details (GX samples) have the token replaced by ``[erased]``.

Snapshots and export files are immutable for readers, so they are rewritten into a new file and
renamed over the old one: a reader that has the old file open keeps reading it until it closes,
one that opens the path afterwards reads the scrubbed copy. Rewriting (rather than deleting in
place) also leaves no deleted row behind in the file's free blocks.
"""

import csv
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from klant.activation.exports import csv_bytes, fsync_dir, sha256_of, write_file
from klant.identity.dictionary import (
    RAW_IDENTIFIER_VALUES_SQL,
    ensure_dictionary,
    register_country_aliases,
)
from klant.settings import Settings

PRIVACY_SCHEMA = "privacy"
ERASED = "[erased]"
# columns holding JSON text with sampled values (GX's unexpected lists): redacted, not deleted
REDACTED_TEXT_COLUMNS = {
    ("audit", "check_results"): ("details",),
    ("audit", "publish_log"): ("checks",),
    ("main", "klant_build"): ("checks",),
    ("main", "klant_publish_log"): ("checks",),
}
# a quarantined line is free text: it is searched for tokens at least this long
MIN_SUBSTRING_TOKEN = 6
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')

# every raw row's identifier keys, as the identity graph writes them (type:normalized value);
# e-mails and phones through the identifier dictionary, ids trimmed as staging trims them
RAW_IDENTIFIER_KEYS_SQL = f"""
with

raw_values as (
    {RAW_IDENTIFIER_VALUES_SQL}
),

keyed as (
    select
        raw_values.raw_table,
        raw_values.row_id,
        raw_values.identifier_type || ':'
            || coalesce(dictionary.normalized_value, trim(raw_values.raw_value)) as identifier_key
    from raw_values
    left join raw.identifier_dictionary as dictionary
        using (identifier_type, raw_value, region)
    union all
    select 'crm_contacts', rowid, 'crm_record_id:' || trim(record_id)
    from raw.crm_contacts where nullif(trim(record_id), '') is not null
    union all
    select 'web_events', rowid, 'anonymous_id:' || trim(anonymous_id)
    from raw.web_events where nullif(trim(anonymous_id), '') is not null
    union all
    select 'web_events', rowid, 'user_id:' || trim(user_id)
    from raw.web_events where nullif(trim(user_id), '') is not null
    union all
    select 'dmp_audiences', rowid, 'anonymous_id:' || trim(cookie_id)
    from raw.dmp_audiences where nullif(trim(cookie_id), '') is not null
    union all
    select 'dmp_audiences', rowid, 'email_sha256:' || lower(trim(hashed_email))
    from raw.dmp_audiences where nullif(trim(hashed_email), '') is not null
)

select * from keyed
"""


@dataclass
class PurgeReport:
    """Rows removed per table (schema.table, snapshot:<file>:table, exports:<file>)."""

    rows_removed: Counter = field(default_factory=Counter)
    snapshots_rewritten: list[str] = field(default_factory=list)
    export_files_rewritten: list[str] = field(default_factory=list)

    def add(self, table: str, rows: int) -> None:
        if rows:
            self.rows_removed[table] += rows

    def merge(self, other: "PurgeReport") -> None:
        self.rows_removed.update(other.rows_removed)
        self.snapshots_rewritten += other.snapshots_rewritten
        self.export_files_rewritten += other.export_files_rewritten

    @property
    def total(self) -> int:
        return sum(self.rows_removed.values())

    def tables_json(self) -> str:
        return json.dumps(dict(sorted(self.rows_removed.items())))


def _quote(*names: str) -> str:
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


def ensure_privacy_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The suppression list and the privacy audit logs (no identifier in clear anywhere)."""
    con.execute(f"create schema if not exists {PRIVACY_SCHEMA}")
    con.execute(
        """
        create table if not exists privacy.suppression_list (
            identifier_hash varchar primary key,
            request_id varchar not null,
            suppressed_at timestamp not null
        )
        """
    )
    con.execute(
        """
        create table if not exists privacy.erasure_log (
            request_id varchar primary key,
            identifier_type varchar not null,
            identifier_hashes varchar not null,
            requested_at varchar,
            applied_at timestamp not null,
            run_id varchar,
            persons_erased integer not null,
            person_hashes varchar,
            identifiers_suppressed integer not null,
            tables_touched varchar not null,
            rows_removed bigint not null
        )
        """
    )
    con.execute(
        """
        create table if not exists privacy.purge_log (
            run_id varchar,
            purged_at timestamp not null,
            reason varchar not null,
            as_of timestamp,
            subjects integer not null,
            tables_touched varchar not null,
            rows_removed bigint not null
        )
        """
    )
    con.execute("create schema if not exists audit")
    con.execute(
        """
        create table if not exists audit.expected_removals (
            run_id varchar not null,
            table_name varchar not null,
            rows bigint not null,
            removed_at timestamp not null
        )
        """
    )


def delete_suppressed_raw_rows(con: duckdb.DuckDBPyConnection, key: str) -> PurgeReport:
    """Delete every raw row that carries an identifier on the suppression list."""
    report = PurgeReport()
    ensure_dictionary(con)
    if not con.execute("select count(*) from privacy.suppression_list").fetchone()[0]:
        return report
    register_country_aliases(con)
    con.execute(
        f"""
        create or replace temp table klant_suppressed_rows as
        with keys as ({RAW_IDENTIFIER_KEYS_SQL}),
        suppressed_keys as (
            select distinct identifier_key
            from (select distinct identifier_key from keys) as distinct_keys
            where sha256(? || ':' || identifier_key)
                in (select identifier_hash from privacy.suppression_list)
        )
        select distinct keys.raw_table, keys.row_id
        from keys
        inner join suppressed_keys using (identifier_key)
        """,
        [key],
    )
    tables = con.execute("select distinct raw_table from klant_suppressed_rows").fetchall()
    for (table,) in tables:
        deleted = con.execute(
            f"delete from raw.{_quote(table)} where rowid in "
            "(select row_id from klant_suppressed_rows where raw_table = ?)",
            [table],
        ).fetchone()[0]
        report.add(f"raw.{table}", deleted)
    con.execute("drop table klant_suppressed_rows")
    # the dictionary keeps a raw spelling only while some raw row still holds it
    report.add("raw.identifier_dictionary", _delete_orphaned_dictionary_rows(con, key))
    return report


def _delete_orphaned_dictionary_rows(con: duckdb.DuckDBPyConnection, key: str) -> int:
    return con.execute(
        f"""
        delete from raw.identifier_dictionary as dictionary
        where sha256(? || ':' || dictionary.identifier_type || ':'
                || coalesce(dictionary.normalized_value, trim(dictionary.raw_value)))
            in (select identifier_hash from privacy.suppression_list)
        and not exists (
            select 1 from ({RAW_IDENTIFIER_VALUES_SQL}) as still_held
            where still_held.identifier_type = dictionary.identifier_type
              and still_held.raw_value = dictionary.raw_value
              and still_held.region = dictionary.region
        )
        """,
        [key],
    ).fetchone()[0]


def register_tokens(con: duckdb.DuckDBPyConnection, tokens: Iterable[str]) -> int:
    """Put the clear tokens in a temporary table of this connection (never written to disk)."""
    values = sorted({t for t in tokens if t})
    token_rows = pa.table({"token": pa.array(values, pa.string())})  # noqa: F841 - read below
    con.execute("create or replace temp table klant_purge_tokens as select token from token_rows")
    return len(values)


def _text_columns(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[tuple[str, str], list]:
    rows = con.execute(
        """
        select c.table_schema, c.table_name, c.column_name
        from information_schema.columns as c
        inner join information_schema.tables as t
            on t.table_catalog = c.table_catalog
            and t.table_schema = c.table_schema
            and t.table_name = c.table_name
        where c.table_catalog = ? and t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR'
        order by c.table_schema, c.table_name, c.ordinal_position
        """,
        [catalog],
    ).fetchall()
    columns: dict[tuple[str, str], list] = {}
    for schema, table, column in rows:
        columns.setdefault((schema, table), []).append(column)
    return columns


def _token_lengths(con: duckdb.DuckDBPyConnection) -> str:
    """The byte lengths of the registered tokens, as an SQL list."""
    lengths = con.execute(
        "select distinct strlen(token) from klant_purge_tokens order by 1"
    ).fetchall()
    return "(" + ", ".join(str(n) for (n,) in lengths) + ")" if lengths else "(-1)"


def _rows_holding_token(relation: str, columns: list[str], lengths: str) -> str:
    """The rowids of the rows of `relation` with a token in any of `columns`: one narrow scan
    per column, not one scan of every column with a join each (which held whole wide tables
    in memory at a million people). Only values as long as some token (`lengths`, from
    _token_lengths; a stored string knows its length) are looked up: JSON texts and the like
    are passed over without hashing them."""
    return " union ".join(
        f"select rowid from {relation} where strlen({_quote(c)}) in {lengths} "
        f"and {_quote(c)} in (select token from klant_purge_tokens)"
        for c in columns
    )


def redact_json_text(text: str | None, tokens: set[str]) -> str | None:
    """JSON text with every string literal equal to a token replaced by "[erased]"."""
    if not text:
        return text
    return _JSON_STRING.sub(lambda m: f'"{ERASED}"' if m.group(1) in tokens else m.group(0), text)


def _redact_text_columns(
    con: duckdb.DuckDBPyConnection, catalog: str, tokens: set[str], report: PurgeReport
) -> None:
    present = _text_columns(con, catalog)
    for (schema, table), columns in REDACTED_TEXT_COLUMNS.items():
        if (schema, table) not in present:
            continue
        relation = _quote(catalog, schema, table)
        for column in columns:
            rows = con.execute(
                f"select rowid, {_quote(column)} from {relation} where {_quote(column)} is not null"
            ).fetchall()
            changed = [
                (new, rowid) for rowid, old in rows if (new := redact_json_text(old, tokens)) != old
            ]
            if changed:
                con.executemany(
                    f"update {relation} set {_quote(column)} = ? where rowid = ?", changed
                )
                report.add(f"{schema}.{table}.{column} (redacted)", len(changed))


def scrub_build(
    con: duckdb.DuckDBPyConnection, tokens: set[str], substring_tokens: set[str]
) -> PurgeReport:
    """Delete every row holding a token from every table of the build file (not the privacy
    logs), quarantined lines that contain a substring token, and redact check details."""
    report = PurgeReport()
    if not tokens:
        return report
    catalog = con.execute("select current_database()").fetchone()[0]
    lengths = _token_lengths(con)
    for (schema, table), columns in _text_columns(con, catalog).items():
        if schema == PRIVACY_SCHEMA or (schema, table) in REDACTED_TEXT_COLUMNS:
            continue
        relation = _quote(schema, table)
        holding = _rows_holding_token(relation, columns, lengths)
        deleted = con.execute(f"delete from {relation} where rowid in ({holding})").fetchone()[0]
        report.add(f"{schema}.{table}", deleted)
    long_tokens = sorted(t.lower() for t in substring_tokens if len(t) >= MIN_SUBSTRING_TOKEN)
    if long_tokens:
        needles = pa.table({"needle": pa.array(long_tokens, pa.string())})  # noqa: F841
        deleted = con.execute(
            "delete from raw.quarantine where exists (select 1 from needles "
            "where contains(lower(raw.quarantine.raw_line), needles.needle))"
        ).fetchone()[0]
        report.add("raw.quarantine", deleted)
    _redact_text_columns(con, catalog, tokens, report)
    return report


def scrub_snapshot(con: duckdb.DuckDBPyConnection, path: Path, tokens: set[str]) -> PurgeReport:
    """Rewrite one published snapshot without the rows that hold a token (if any does)."""
    report = PurgeReport()
    con.execute(f"attach '{path}' as klant_src (read_only)")  # a path klant built
    try:
        columns = _text_columns(con, "klant_src")
        lengths = _token_lengths(con)
        hits = {
            (schema, table): con.execute(
                "select count(*) from "
                f"({_rows_holding_token(_quote('klant_src', schema, table), cols, lengths)})"
            ).fetchone()[0]
            for (schema, table), cols in columns.items()
            if (schema, table) not in REDACTED_TEXT_COLUMNS
        }
        redactions = {
            (schema, table): [
                c
                for c in cols
                for (text,) in con.execute(
                    f"select {_quote(c)} from {_quote('klant_src', schema, table)}"
                ).fetchall()
                if redact_json_text(text, tokens) != text
            ]
            for (schema, table), cols in REDACTED_TEXT_COLUMNS.items()
            if (schema, table) in columns
        }
        if not any(hits.values()) and not any(redactions.values()):
            return report
        tmp = path.with_name(f".{path.name}.scrub.tmp")
        tmp.unlink(missing_ok=True)
        con.execute(f"attach '{tmp}' as klant_dst")
        try:
            for schema in sorted({s for s, _ in columns}):
                con.execute(f"create schema if not exists klant_dst.{_quote(schema)}")
            for (schema, table), cols in columns.items():
                source = _quote("klant_src", schema, table)
                keep = (
                    "true"
                    if (schema, table) in REDACTED_TEXT_COLUMNS
                    else f"rowid not in ({_rows_holding_token(source, cols, lengths)})"
                )
                con.execute(
                    f"create table {_quote('klant_dst', schema, table)} as "
                    f"select * from {_quote('klant_src', schema, table)} where {keep}"
                )
                report.add(f"snapshot:{path.name}:{schema}.{table}", hits.get((schema, table), 0))
            _redact_text_columns(con, "klant_dst", tokens, report)
        finally:
            con.execute("detach klant_dst")
    finally:
        con.execute("detach klant_src")
    os.replace(tmp, path)
    fsync_dir(path.parent)
    report.snapshots_rewritten.append(path.name)
    return report


def scrub_snapshots(
    con: duckdb.DuckDBPyConnection, settings: Settings, tokens: set[str]
) -> PurgeReport:
    """Every published snapshot, the live one included, without the tokens' rows."""
    report = PurgeReport()
    builds = settings.published_dir / "builds"
    if not tokens or not builds.is_dir():
        return report
    for path in sorted(builds.glob("*.duckdb")):
        if path.is_file() and not path.is_symlink():
            report.merge(scrub_snapshot(con, path, tokens))
    return report


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        return header, list(reader)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.scrub.tmp")
    write_file(tmp, data)
    os.replace(tmp, path)


def scrub_exports(exports_dir: Path, tokens: set[str]) -> PurgeReport:
    """Every export file without the rows holding a token; manifests follow (rows, SHA-256),
    written as the exporter writes them (klant.activation.exports)."""
    report = PurgeReport()
    if not tokens or not exports_dir.is_dir():
        return report
    for manifest_path in sorted(exports_dir.glob("*/*/*/manifest.json")):
        folder = manifest_path.parent
        if folder.is_symlink() or folder.name.startswith("."):
            continue  # `latest` points at a folder scrubbed under its own name
        manifest = json.loads(manifest_path.read_text())
        changed = False
        for name, entry in manifest.get("files", {}).items():
            path = folder / name
            if not path.is_file():
                continue
            header, rows = _csv_rows(path)
            kept = [row for row in rows if not any(cell in tokens for cell in row)]
            if len(kept) == len(rows):
                continue
            data = csv_bytes(tuple(header), (tuple(row) for row in kept))
            _write_atomically(path, data)
            entry["rows"], entry["sha256"] = len(kept), sha256_of(data)
            erased = manifest.setdefault("erased_rows", {})
            erased[name] = erased.get(name, 0) + len(rows) - len(kept)
            report.add(f"exports:{path.relative_to(exports_dir)}", len(rows) - len(kept))
            report.export_files_rewritten.append(str(path.relative_to(exports_dir)))
            changed = True
        if changed:
            counts = manifest.get("counts", {})
            for count, file_name in (("adds", "adds.csv"), ("removes", "removes.csv")):
                if file_name in manifest["files"]:
                    counts[count] = manifest["files"][file_name]["rows"]
            if "full.csv" in manifest["files"] and "exported_rows" in counts:
                counts["exported_rows"] = manifest["files"]["full.csv"]["rows"]
            text = json.dumps(manifest, indent=2) + "\n"
            _write_atomically(manifest_path, text.encode("utf-8"))
    return report
