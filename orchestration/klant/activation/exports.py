"""Segment exports for ad platforms and the DMP: full list, adds, removes, manifest per build.

An export of one segment to one destination is the folder
``<exports>/<segment>/<destination>/<build id>/`` holding full.csv, adds.csv, removes.csv and
manifest.json. It is written into a hidden temporary folder, renamed into place, and then the
symlink ``latest`` beside it is swapped to it in one rename: ``latest`` is the last successful
export. Adds and removes compare the new full list with the one ``latest`` holds, and exporting
the build ``latest`` already holds changes nothing.

Only hashes leave: e-mails and phones come from the published activation_identifiers as
SHA-256 hex, and every hashed column is checked to hold 64 hex digits before a file is written.
"""

import csv
import hashlib
import io
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from klant.activation.destinations import Destination, Segment
from klant.settings import Settings

LATEST = "latest"
MANIFEST = "manifest.json"
FULL, ADDS, REMOVES = "full.csv", "adds.csv", "removes.csv"
# a temporary folder this old belongs to an export that was killed: no export takes an hour
STALE_TMP_SECONDS = 3600.0

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_PHONE_LIKE = re.compile(r"\+?[0-9]{7,15}")

Row = tuple[str, ...]


class ExportError(Exception):
    """An export could not be made (nothing published, a missing table, an unhashed value)."""


@dataclass(frozen=True)
class Member:
    """A segment member as activation may see it: hashes, country, consent and cookie ids."""

    person_id: str
    email_sha256: str | None = None
    phone_sha256: str | None = None
    phone_digits_sha256: str | None = None
    country: str | None = None
    consent_email: bool | None = None
    consent_advertising: bool | None = None
    consent_personalization: bool | None = None
    anonymous_ids: tuple[str, ...] = ()

    def has_consent(self, purpose: str) -> bool:
        """Only an explicit yes counts: missing consent means no."""
        return getattr(self, f"consent_{purpose}") is True


@dataclass(frozen=True)
class FileFormat:
    """A destination's CSV: its header, a member's rows, and the columns that must be hashes."""

    header: Row
    rows: Callable[[Member], list[Row]]
    hashed: tuple[int, ...]


def _google_rows(member: Member) -> list[Row]:
    if not (member.email_sha256 or member.phone_sha256):
        return []
    return [(member.email_sha256 or "", member.phone_sha256 or "", member.country or "")]


def _meta_rows(member: Member) -> list[Row]:
    if not (member.email_sha256 or member.phone_digits_sha256):
        return []
    return [(member.email_sha256 or "", member.phone_digits_sha256 or "")]


def looks_like_email_or_phone(value: str) -> bool:
    """A cookie id holding an e-mail or a phone number (a tracking bug) is never sent as is."""
    return "@" in value or bool(_PHONE_LIKE.fullmatch(re.sub(r"[\s().-]", "", value)))


def _dmp_rows(member: Member) -> list[Row]:
    devices = [a for a in member.anonymous_ids if a and not looks_like_email_or_phone(a)]
    if devices:
        return [(anonymous_id, member.email_sha256 or "") for anonymous_id in devices]
    return [("", member.email_sha256)] if member.email_sha256 else []


FORMATS: dict[str, FileFormat] = {
    # Google Ads Customer Match: SHA-256 of the normalized e-mail and of the E.164 phone
    "google_customer_match": FileFormat(("Email", "Phone", "Country"), _google_rows, (0, 1)),
    # Meta custom audiences: SHA-256 of the normalized e-mail and of the phone's digits
    "meta_custom_audience": FileFormat(("email", "phone"), _meta_rows, (0, 1)),
    # DMP: one row per cookie id of the member, with the hashed e-mail where known
    "dmp": FileFormat(("anonymous_id", "email_sha256"), _dmp_rows, (1,)),
}


@dataclass(frozen=True)
class ExportResult:
    """What one export wrote (or found already written) and its counts."""

    segment: str
    destination: str
    build_id: str
    folder: Path
    previous_build_id: str | None
    counts: dict[str, int]
    written: bool  # False when `latest` already held this build: nothing changed


@dataclass
class _Plan:
    rows: list[Row] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def plan_rows(members: Iterable[Member], destination: Destination) -> _Plan:
    """The destination's sorted, distinct rows for the members, and who was left out and why."""
    file_format = FORMATS[destination.file_format]
    rows: set[Row] = set()
    counts = dict.fromkeys(
        ("segment_members", "exported_members", "excluded_without_consent",
         "excluded_without_identifier"), 0,
    )  # fmt: skip
    for member in members:
        counts["segment_members"] += 1
        if not member.has_consent(destination.consent_purpose):
            counts["excluded_without_consent"] += 1
            continue
        member_rows = file_format.rows(member)
        if not member_rows:
            counts["excluded_without_identifier"] += 1
            continue
        counts["exported_members"] += 1
        rows.update(member_rows)
    ordered = sorted(rows)
    _check_hashed(ordered, file_format, destination)
    counts["exported_rows"] = len(ordered)
    return _Plan(ordered, counts)


def _check_hashed(rows: list[Row], file_format: FileFormat, destination: Destination) -> None:
    for row in rows:
        for position in file_format.hashed:
            if row[position] and not _SHA256_HEX.fullmatch(row[position]):
                raise ExportError(
                    f"{destination.name}: column {file_format.header[position]} holds a value "
                    "that is not a SHA-256 hex digest; refusing to write an unhashed identifier"
                )


def csv_bytes(header: Row, rows: Iterable[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _read_rows(path: Path) -> set[Row]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader, None)  # header
        return {tuple(row) for row in reader}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _latest(root: Path) -> tuple[Path, dict] | None:
    """The last successful export (folder, manifest), or None before the first one."""
    link = root / LATEST
    if not link.is_symlink():
        return None
    folder = root / os.readlink(link)
    try:
        return folder, json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        return None  # removed by hand: start again from an empty previous list


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _point_latest(root: Path, folder_name: str) -> None:
    link = root / LATEST
    tmp = root / f".{LATEST}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(folder_name, tmp)
    os.replace(tmp, link)  # rename(2) is atomic: readers see the old export or the new one
    fsync_dir(root)


def write_file(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _remove_stale_tmp(root: Path) -> None:
    now = time.time()
    for tmp in root.glob(".tmp-*"):
        if tmp.is_dir() and now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
            shutil.rmtree(tmp, ignore_errors=True)


def _folder_name(
    root: Path, build_id: str, previous_build_id: str | None, full_sha: str
) -> tuple[str, bool]:
    """(folder name, whether it already holds this very export) for the build.

    A folder of this build that `latest` does not point to is either an export killed after
    its rename (same previous build, same list: reuse it) or one from before a rollback of the
    published store (keep it, write <build id>.2).
    """
    for attempt in range(1, 1000):
        name = build_id if attempt == 1 else f"{build_id}.{attempt}"
        try:
            manifest = json.loads((root / name / MANIFEST).read_text())
        except FileNotFoundError:
            if not (root / name).exists():
                return name, False
            continue
        if (
            manifest.get("previous_build_id") == previous_build_id
            and manifest.get("files", {}).get(FULL, {}).get("sha256") == full_sha
        ):
            return name, True
    raise ExportError(f"{root}: too many exports of build {build_id}")


def write_export(
    members: Iterable[Member],
    segment: str,
    destination: Destination,
    build_id: str,
    exports_dir: Path,
    now: datetime | None = None,
) -> ExportResult:
    """Export the members to one destination for a build, unless `latest` already holds it."""
    root = exports_dir / segment / destination.name
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(root)
    previous = _latest(root)
    if previous is not None and previous[1].get("build_id") == build_id:
        folder, manifest = previous
        return ExportResult(
            segment, destination.name, build_id, folder, manifest.get("previous_build_id"),
            manifest["counts"], written=False,
        )  # fmt: skip

    plan = plan_rows(members, destination)
    file_format = FORMATS[destination.file_format]
    previous_rows = _read_rows(previous[0] / FULL) if previous is not None else set()
    previous_build_id = previous[1].get("build_id") if previous is not None else None
    current = set(plan.rows)
    adds = sorted(current - previous_rows)
    removes = sorted(previous_rows - current)
    files = {
        FULL: (csv_bytes(file_format.header, plan.rows), len(plan.rows)),
        ADDS: (csv_bytes(file_format.header, adds), len(adds)),
        REMOVES: (csv_bytes(file_format.header, removes), len(removes)),
    }
    counts = {**plan.counts, "adds": len(adds), "removes": len(removes)}
    full_sha256 = sha256_of(files[FULL][0])
    name, already_written = _folder_name(root, build_id, previous_build_id, full_sha256)
    folder = root / name
    if not already_written:
        manifest = {
            "segment": segment,
            "destination": destination.name,
            "file_format": destination.file_format,
            "consent_purpose": destination.consent_purpose,
            "build_id": build_id,
            "previous_build_id": previous_build_id,
            "exported_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "counts": counts,
            "files": {
                file_name: {"rows": n, "sha256": sha256_of(data)}
                for file_name, (data, n) in files.items()
            },
        }
        tmp = root / f".tmp-{name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for file_name, (data, _) in files.items():
            write_file(tmp / file_name, data)
        write_file(tmp / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        fsync_dir(tmp)
        os.rename(tmp, folder)  # fails rather than overwrite a folder another export wrote
    _point_latest(root, name)
    return ExportResult(
        segment, destination.name, build_id, folder, previous_build_id, counts, written=True
    )


def read_members(con: duckdb.DuckDBPyConnection, segment: Segment) -> list[Member]:
    """The segment's members with their hashes, consents and cookie ids, from the published store.

    Marts are in the published store's main schema, segments in `segments`. A member missing
    from activation_identifiers keeps every consent null, so it is exported nowhere.
    """
    table = f'segments."{segment.table}"'  # a dbt model name from the manifest
    identifiers = con.execute(
        f"""
        with members as (
            select distinct person_id from {table} where person_id is not null
        )
        select
            members.person_id,
            ids.email_sha256,
            ids.phone_sha256,
            ids.phone_digits_sha256,
            ids.country,
            ids.consent_email,
            ids.consent_advertising,
            ids.consent_personalization
        from members
        left join main.activation_identifiers as ids
            on ids.person_id = members.person_id
        order by members.person_id
        """
    ).fetchall()
    devices: dict[str, list[str]] = {}
    for person_id, anonymous_id in con.execute(
        f"""
        select person_id, anonymous_id
        from main.activation_device_ids
        where person_id in (select person_id from {table})
        order by person_id, anonymous_id
        """
    ).fetchall():
        devices.setdefault(person_id, []).append(anonymous_id)
    return [Member(*row, anonymous_ids=tuple(devices.get(row[0], ()))) for row in identifiers]


def published_build_id(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select build_id from main.klant_build").fetchone()[0]


def export_segment(
    settings: Settings,
    segment: Segment,
    destinations: list[Destination],
    now: datetime | None = None,
) -> list[ExportResult]:
    """Export a segment of the published build to each destination."""
    link = settings.published_db
    if not link.exists():
        raise ExportError(f"nothing is published yet ({link}); run klant_full first")
    # resolve the symlink once: the build id and the members come from the same snapshot
    con = duckdb.connect(str(link.resolve()), read_only=True)
    try:
        build_id = published_build_id(con)
        try:
            members = read_members(con, segment)
        except duckdb.CatalogException as error:
            raise ExportError(
                f"published build {build_id} has no table for segment {segment.name} "
                f"(or no activation marts): {error}"
            ) from error
    finally:
        con.close()
    return [
        write_export(members, segment.name, destination, build_id, settings.exports_dir, now)
        for destination in destinations
    ]
