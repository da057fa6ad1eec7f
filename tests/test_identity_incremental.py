"""int_identifier_links_limited is incremental by link group (macros/identity_incremental.sql):
a run computes again only the link groups (components over all links, kept and dropped) that
hold a changed link, yet leaves the table exactly as a full rebuild would. On a copy of the
sample build, int_identifiers_linked is changed as a day's records and a purge change it (a
link that merges two persons, one that makes an identifier ambiguous, a link gone, a new
identifier, an earlier first sighting, a link seen on one more record, an identifier erased)
and the identity rules are edited; after each, the incremental run is compared row for row
(EXCEPT ALL both ways) with `dbt run --full-refresh` on a copy, and the identifiers it
recomputed are counted against the link groups scipy finds over the links before the change."""

from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from bench.dbt_cli import dbt_on
from klant.settings import Settings
from tests.conftest import (
    assert_same_rows_as_a_full_rebuild,
    clone_build,
    recomputed_identifiers,
)

pytestmark = pytest.mark.slow

MODEL = "int_identifier_links_limited"
LIMITED = f"intermediate.{MODEL}"
LINKED = "intermediate.int_identifiers_linked"


def run_model(build_db: Path, target: Path, *, full_refresh: bool = False) -> str:
    args = ["run", "--select", MODEL, *(["--full-refresh"] if full_refresh else [])]
    return dbt_on(args, build_db, target)


def assert_equals_full_rebuild(build_db: Path, tmp_path: Path, step: str) -> None:
    assert_same_rows_as_a_full_rebuild(
        build_db,
        tmp_path,
        step,
        lambda copy, target: run_model(copy, target, full_refresh=True),
        [LIMITED],
    )


def link_groups(con: duckdb.DuckDBPyConnection, table: str) -> dict[int, int]:
    """Each identifier id of `table`'s links -> the smallest id of its component over all of
    them, kept or dropped, by scipy."""
    ends = con.execute(f"select identifier_id_a, identifier_id_b from {table}").fetchnumpy()
    a, b = ends["identifier_id_a"], ends["identifier_id_b"]
    nodes, index = np.unique(np.concatenate([a, b]), return_inverse=True)
    n = len(nodes)
    graph = coo_matrix((np.ones(len(a)), (index[: len(a)], index[len(a) :])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    smallest = np.full(labels.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(smallest, labels, nodes)
    return dict(zip(nodes.tolist(), smallest[labels].tolist(), strict=True))


@pytest.fixture
def build(sample_build: Settings, tmp_path: Path) -> Path:
    return clone_build(sample_build, tmp_path / "clone").build_db


def test_link_group_is_the_component_over_kept_and_dropped_links(build: Path):
    con = duckdb.connect(str(build), read_only=True)
    expected = link_groups(con, LIMITED)
    found = dict(
        con.execute(
            f"select identifier_id_a, link_group from {LIMITED} where is_self_link"
        ).fetchall()
    )
    dropped = con.execute(f"select count(*) from {LIMITED} where not is_kept").fetchone()[0]
    con.close()
    assert found == expected
    # the sample has dropped links, and some join groups the kept links leave apart
    assert dropped > 0 and len(set(expected.values())) > 1000


def test_an_unchanged_graph_recomputes_no_link(build: Path, tmp_path: Path):
    con = duckdb.connect(str(build), read_only=True)
    identifiers = con.execute(f"select count(*) from {LIMITED} where is_self_link").fetchone()[0]
    con.close()
    assert recomputed_identifiers(run_model(build, tmp_path / "target")) == (0, identifiers)
    assert_equals_full_rebuild(build, tmp_path, "unchanged")


def self_links(con: duckdb.DuckDBPyConnection, sql_filter: str, count: int) -> list[tuple]:
    """`count` identifiers (id, key, type) of distinct link groups with persons in them."""
    return con.execute(
        f"select identifier_id_a, identifier_key_a, identifier_type_a from {LIMITED} "
        f"where is_self_link and is_kept and {sql_filter} "
        "qualify row_number() over (partition by link_group order by identifier_id_a) = 1 "
        f"order by link_group limit {count}"
    ).fetchall()


def add_link(con: duckdb.DuckDBPyConnection, one: tuple, other: tuple) -> None:
    a, b = sorted([one, other])
    con.execute(
        f"insert into {LINKED} values (?, ?, ?, ?, ?, ?, false, 1, "
        "timestamp '2026-11-29 10:00:00', timestamp '2026-11-29 10:00:00')",
        [a[1], b[1], a[0], b[0], a[2], b[2]],
    )


def test_changed_links_recompute_only_their_link_groups(build: Path, tmp_path: Path):
    con = duckdb.connect(str(build))
    before = link_groups(con, LIMITED)
    with_user = (
        f"link_group in (select link_group from {LIMITED} "
        "where is_self_link and is_kept and identifier_type_a = 'user_id')"
    )
    visitors = (
        f"link_group not in (select link_group from {LIMITED} "
        "where is_self_link and identifier_type_a <> 'anonymous_id')"
    )
    emails = self_links(con, f"identifier_type_a = 'email' and {with_user}", 3)
    users = self_links(con, "identifier_type_a = 'user_id'", 40)[10:]
    anonymous = self_links(con, f"identifier_type_a = 'anonymous_id' and {visitors}", 60)[30:]
    changed_ends: set[int] = set()

    # an e-mail seen on another person's order: it would join two user_ids, so the rules drop
    # it (ambiguous_identifier) and its links with it, in both link groups
    add_link(con, emails[0], users[0])
    # a visitor's device seen with a person's e-mail: the visitor joins the person
    add_link(con, anonymous[0], emails[1])
    changed_ends |= {emails[0][0], users[0][0], anonymous[0][0], emails[1][0]}
    # a new identifier, on its own and linked to a device
    new_id = con.execute(f"select max(identifier_id_a) + 1 from {LINKED}").fetchone()[0]
    new = (new_id, "anonymous_id:new-device", "anonymous_id")
    con.execute(
        f"insert into {LINKED} values (?, ?, ?, ?, ?, ?, true, 1, "
        "timestamp '2026-11-29 11:00:00', timestamp '2026-11-29 11:00:00')",
        [new[1], new[1], new[0], new[0], new[2], new[2]],
    )
    add_link(con, anonymous[1], new)
    changed_ends |= {anonymous[1][0], new_id}
    # a link gone (its only record purged): the group may split
    groups = ", ".join(str(before[x]) for x in changed_ends if x in before)
    gone = con.execute(
        f"select identifier_id_a, identifier_id_b from {LINKED} where not is_self_link "
        f"and identifier_id_a in (select identifier_id_a from {LIMITED} where is_self_link "
        f"and link_group not in ({groups})) "
        "order by identifier_id_a, identifier_id_b limit 1"
    ).fetchone()
    con.execute(
        f"delete from {LINKED} where identifier_id_a = ? and identifier_id_b = ?", list(gone)
    )
    changed_ends |= set(gone)
    # an identifier seen earlier than it was (a backfilled export), one link on a new record
    first_seen = users[1][0]
    con.execute(
        f"update {LINKED} set first_observed_at = first_observed_at - interval 400 day "
        "where is_self_link and identifier_id_a = ?",
        [first_seen],
    )
    ends = ", ".join(map(str, changed_ends))
    again = con.execute(
        f"select identifier_id_a, identifier_id_b from {LINKED} where not is_self_link "
        "and 'phone' in (identifier_type_a, identifier_type_b) "
        f"and identifier_id_a not in ({ends}) and identifier_id_b not in ({ends}) "
        "order by identifier_id_a, identifier_id_b limit 1"
    ).fetchone()
    con.execute(
        f"update {LINKED} set record_count = record_count + 1, last_observed_at = "
        "timestamp '2026-11-29 12:00:00' where identifier_id_a = ? and identifier_id_b = ?",
        list(again),
    )
    changed_ends |= {first_seen, *again}
    # an identifier erased: its self-link and every link of it gone
    erased = users[2][0]
    con.execute(
        f"delete from {LINKED} where identifier_id_a = ? or identifier_id_b = ?", [erased, erased]
    )
    changed_ends.add(erased)
    identifiers = con.execute(f"select count(*) from {LINKED} where is_self_link").fetchone()[0]
    con.close()

    touched = {before[x] for x in changed_ends if x in before}
    expected = {x for x, group in before.items() if group in touched} | changed_ends
    assert len(expected) < identifiers / 20  # a small part of the graph
    output = run_model(build, tmp_path / "target")
    assert recomputed_identifiers(output) == (len(expected), identifiers)
    assert_equals_full_rebuild(build, tmp_path, "changed")

    con = duckdb.connect(str(build), read_only=True)
    verdict = dict(
        con.execute(
            f"select identifier_key_a, coalesce(drop_stage, 'kept') from {LIMITED} "
            "where is_self_link and identifier_id_a in (?, ?, ?)",
            [emails[0][0], new_id, erased],
        ).fetchall()
    )
    merged = con.execute(
        f"select count(distinct component_key) from {LIMITED} "
        "where is_self_link and identifier_id_a in (?, ?)",
        [anonymous[0][0], emails[1][0]],
    ).fetchone()[0]
    con.close()
    assert verdict == {emails[0][1]: "ambiguous_identifier", new[1]: "kept"}
    assert merged == 1

    # and the next run has nothing left to do
    assert recomputed_identifiers(run_model(build, tmp_path / "target")) == (0, identifiers)


def test_edited_identity_rules_recompute_every_link(build: Path, tmp_path: Path):
    con = duckdb.connect(str(build))
    seed = con.execute(
        "select table_schema from information_schema.tables where table_name = 'identity_rules'"
    ).fetchone()[0]
    con.execute(
        f"update {seed}.identity_rules set max_per_person = 2 where identifier_type = 'email'"
    )
    con.close()
    output = run_model(build, tmp_path / "target")
    assert recomputed_identifiers(output) is None
    assert "the rules or the code changed: every link recomputed" in output
    assert_equals_full_rebuild(build, tmp_path, "rules")
