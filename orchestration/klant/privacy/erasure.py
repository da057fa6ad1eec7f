"""Erasure requests: find the person, suppress every identifier, remove every trace.

A request names an e-mail, a phone, a customer id or a person id, as keyed hashes only
(klant.privacy.keys). To find everything that belongs to that person, klant asks the identity
graph of the data as it stands now, new files of this run included: the staging and identity
models up to `int_identifiers_clustered` are built into scratch schemas
(``privacy_scratch_*``, dropped afterwards) with the same rules (limits, blocklists) as the real
build. Every identifier in the requested identifiers' groups is then

- added to the suppression list (keyed hash), so any raw row carrying it is deleted now and in
  every later run (a re-loaded old export brings nothing back);
- turned into clear tokens (with the raw spellings from the identifier dictionary, the person
  ids the last build gave it, the SHA-256 forms the exports use), which klant.privacy.purge
  removes from every table, published snapshot and export file.

The erasure log keeps the request id, the keyed hashes, when, the tables touched and the rows
removed: never an identifier in clear.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

import duckdb

from klant.privacy.keys import keyed_hash, sha256_hex
from klant.privacy.purge import PurgeReport
from klant.settings import DBT_PROJECT_DIR, Settings, dbt_vars, utc_now
from klant.warehouse import relation_exists

SCRATCH_PREFIX = "privacy_scratch_"
SCRATCH_GRAPH = f"{SCRATCH_PREFIX}intermediate.int_identifiers_clustered"
REGISTRY = "intermediate.int_identifiers_registered"
MERGES = "marts.fct_person_merges"


@dataclass
class Erasure:
    """One request as resolved: the identifier keys and person ids it erases."""

    request_id: str
    identifier_type: str
    identifier_hashes: list[str]
    requested_at: str | None
    identifier_keys: set[str] = field(default_factory=set)
    person_ids: set[str] = field(default_factory=set)


def pending_requests(con: duckdb.DuckDBPyConnection) -> list[Erasure]:
    """Requests loaded into raw and not yet in the erasure log (a repeated id: first wins)."""
    rows = con.execute(
        """
        select request_id, identifier_type, identifier_hashes, requested_at
        from (
            select
                trim(request_id) as request_id,
                trim(identifier_type) as identifier_type,
                identifier_hashes,
                requested_at,
                row_number() over (
                    partition by trim(request_id) order by _loaded_at, _line_number
                ) as nth
            from raw.privacy_requests
            where trim(request_type) = 'erasure'
        )
        where nth = 1
          and request_id not in (select request_id from privacy.erasure_log)
        order by request_id
        """
    ).fetchall()
    return [Erasure(r, t, (h or "").split(","), at) for r, t, h, at in rows]


def build_scratch_graph(settings: Settings) -> None:
    """Build staging and identity up to the clustered graph into privacy_scratch_* schemas.

    Runs dbt in a subprocess on the build file (the caller must have closed its connection).
    """
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    variables = {**dbt_vars(), "klant__schema_prefix": SCRATCH_PREFIX}
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "KLANT_BUILD_DB": str(settings.build_db),
    }
    done = subprocess.run(
        [
            dbt, "build", "--select", "+int_identifiers_clustered",
            "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
            "--target", "duckdb", "--vars", json.dumps(variables),
            "--target-path", str(settings.warehouse_dir / ".privacy-dbt-target"),
            "--quiet",
        ],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(
            "the identity graph for erasure requests could not be built:\n"
            + done.stdout[-4000:]
            + done.stderr[-4000:]
        )


def drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    schemas = con.execute(
        "select distinct schema_name from information_schema.schemata "
        "where schema_name like ? and catalog_name = current_database()",
        [f"{SCRATCH_PREFIX}%"],
    ).fetchall()
    for (schema,) in schemas:
        con.execute(f'drop schema if exists "{schema}" cascade')


def resolve(con: duckdb.DuckDBPyConnection, key: str, requests: list[Erasure]) -> None:
    """Fill each request's identifier keys (its groups in the scratch graph) and person ids."""
    has_graph = relation_exists(con, SCRATCH_GRAPH)
    has_registry = relation_exists(con, REGISTRY)
    for request in requests:
        hashes = [h for h in request.identifier_hashes if h]
        named: set[str] = set()
        if has_registry:  # a person id names every identifier the last build gave it
            named |= {
                k
                for (k,) in con.execute(
                    f"select identifier_key from {REGISTRY} "
                    "where list_contains(?, sha256(? || ':person:' || person_id))",
                    [hashes, key],
                ).fetchall()
            }
        if has_graph:
            named |= {
                k
                for (k,) in con.execute(
                    f"select identifier_key from {SCRATCH_GRAPH} "
                    "where list_contains(?, sha256(? || ':' || identifier_key))",
                    [hashes, key],
                ).fetchall()
            }
            if named:
                request.identifier_keys = {
                    k
                    for (k,) in con.execute(
                        f"select identifier_key from {SCRATCH_GRAPH} where component_key in "
                        f"(select component_key from {SCRATCH_GRAPH} "
                        "where list_contains(?, identifier_key))",
                        [sorted(named)],
                    ).fetchall()
                }
        request.identifier_keys |= named
        if has_registry:
            request.person_ids = {
                p
                for (p,) in con.execute(
                    f"select distinct person_id from {REGISTRY} "
                    "where list_contains(?, identifier_key) "
                    "or list_contains(?, sha256(? || ':person:' || person_id))",
                    [sorted(request.identifier_keys), hashes, key],
                ).fetchall()
            }
        if request.person_ids and relation_exists(con, MERGES):
            request.person_ids |= {
                p
                for (p,) in con.execute(
                    f"select old_person_id from {MERGES} "
                    "where list_contains(?, surviving_person_id)",
                    [sorted(request.person_ids)],
                ).fetchall()
            }


def suppression_hashes(key: str, request: Erasure) -> set[str]:
    """The keyed hashes to suppress: the request's own, every identifier's, every person id's,
    and each e-mail's SHA-256 as DMP files carry it."""
    hashes = {h for h in request.identifier_hashes if h}
    for identifier_key in request.identifier_keys:
        hashes.add(keyed_hash(key, identifier_key))
        kind, _, value = identifier_key.partition(":")
        if kind == "email":
            hashes.add(keyed_hash(key, f"email_sha256:{sha256_hex(value)}"))
    hashes |= {keyed_hash(key, f"person:{p}") for p in request.person_ids}
    return hashes


def clear_tokens(
    con: duckdb.DuckDBPyConnection, requests: list[Erasure]
) -> tuple[set[str], set[str]]:
    """(tokens for equality, tokens for free-text search) naming the erased people."""
    tokens: set[str] = set()
    for request in requests:
        tokens |= request.person_ids
        for identifier_key in request.identifier_keys:
            kind, _, value = identifier_key.partition(":")
            tokens |= {identifier_key, value}
            if kind == "email":
                tokens.add(sha256_hex(value))
            elif kind == "phone":
                tokens |= {sha256_hex(value), sha256_hex(value.lstrip("+"))}
            elif kind == "anonymous_id":
                tokens.add(f"kv_{value}")
    values = sorted({k.partition(":")[2] for r in requests for k in r.identifier_keys})
    if values:  # every raw spelling of the erased e-mails and phones
        tokens |= {
            raw
            for (raw,) in con.execute(
                "select raw_value from raw.identifier_dictionary "
                "where list_contains(?, normalized_value)",
                [values],
            ).fetchall()
        }
    substrings = {t for t in tokens if not t.startswith(("kp_", "kv_"))} | {
        value for value in values
    }
    return tokens, substrings


def add_to_suppression_list(
    con: duckdb.DuckDBPyConnection, key: str, requests: list[Erasure]
) -> int:
    rows = [
        (h, request.request_id, utc_now())
        for request in requests
        for h in sorted(suppression_hashes(key, request))
    ]
    if rows:
        con.executemany(
            "insert into privacy.suppression_list values (?, ?, ?) on conflict do nothing", rows
        )
    return len(rows)


def log_erasures(
    con: duckdb.DuckDBPyConnection,
    key: str,
    run_id: str | None,
    requests: list[Erasure],
    report: PurgeReport,
) -> None:
    """One audit row per request: keyed hashes, counts and tables; nothing in clear."""
    for request in requests:
        con.execute(
            "insert into privacy.erasure_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                request.request_id, request.identifier_type,
                ",".join(h for h in request.identifier_hashes if h), request.requested_at,
                utc_now(), run_id, len(request.person_ids),
                ",".join(sorted(keyed_hash(key, f"person:{p}") for p in request.person_ids)),
                len(request.identifier_keys), report.tables_json(), report.total,
            ],
        )  # fmt: skip
