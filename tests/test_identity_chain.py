"""A chain of 1,000 linked anonymous ids: the identity graph resolves it in a bounded number of
rounds, through the real dbt model, and the default anonymous-id limit still cuts it."""

import math
import random
import re
from pathlib import Path

import duckdb
import pytest

from bench.dbt_cli import dbt_on

pytestmark = pytest.mark.slow

CHAIN = 1000
LINKED_COLUMNS = (
    "identifier_key_a varchar, identifier_key_b varchar, identifier_id_a bigint, "
    "identifier_id_b bigint, identifier_type_a varchar, identifier_type_b varchar, "
    "is_self_link boolean, record_count bigint, first_observed_at timestamp, "
    "last_observed_at timestamp"
)


def dbt(args: list[str], build_db: Path, target: Path) -> str:
    return dbt_on(args, build_db, target)


def chain_graph(build_db: Path, anonymous_limit: int | None) -> None:
    """A user id at one end, then 1,000 anonymous ids each linked to the next, ids shuffled."""
    keys = ["user_id:u1"] + [f"anonymous_id:a{i:04d}" for i in range(CHAIN)]
    ids = list(range(1, len(keys) + 1))
    random.Random(7).shuffle(ids)  # integer ids in random order: the hard case for propagation
    node = dict(zip(keys, ids, strict=True))
    rows = [(k, k, node[k], node[k], k.split(":")[0], k.split(":")[0], True) for k in keys]
    for a, b in zip(keys, keys[1:], strict=False):
        a, b = sorted((a, b), key=node.get)
        rows.append((a, b, node[a], node[b], a.split(":")[0], b.split(":")[0], False))
    con = duckdb.connect(str(build_db))
    con.execute("update staging.identity_rules set max_per_person = ? "
                "where identifier_type = 'anonymous_id'", [anonymous_limit])  # fmt: skip
    con.execute("create schema if not exists intermediate")
    con.execute(f"create or replace table intermediate.int_identifiers_linked ({LINKED_COLUMNS})")
    con.executemany(
        "insert into intermediate.int_identifiers_linked values "
        "(?, ?, ?, ?, ?, ?, ?, 1, timestamp '2026-01-01', timestamp '2026-01-01')",
        rows,
    )
    con.close()


@pytest.mark.parametrize("anonymous_limit", [None, 50])
def test_a_chain_of_1000_anonymous_ids_converges_in_bounded_rounds(
    tmp_path: Path, anonymous_limit: int | None
):
    build_db, target = tmp_path / "chain.duckdb", tmp_path / "target"
    dbt(["seed"], build_db, target)
    chain_graph(build_db, anonymous_limit)
    log = dbt(["run", "--select", "int_identifier_links_limited"], build_db, target)

    found = re.search(r"rounds per level and attempt ([\d, ]+) \((\d+) in all, with (\d+)", log)
    assert found, log[-2000:]
    rounds, jumps = int(found.group(2)), int(found.group(3))
    print(f"limit {anonymous_limit}: {rounds} rounds and {jumps} pointer-jumping steps")
    # label propagation alone would need one round per hop (1,000); pointer jumping bounds it
    assert rounds + jumps <= 4 * math.ceil(math.log2(CHAIN + 1)), (rounds, jumps)

    con = duckdb.connect(str(build_db), read_only=True)
    groups = con.execute(
        "select count(distinct component_key) from intermediate.int_identifier_links_limited "
        "where is_kept"
    ).fetchone()[0]
    con.close()
    if anonymous_limit is None:
        assert groups == 1  # the whole chain is one person
    else:
        assert groups > 1  # 1,000 devices are more than one person may hold: the chain is cut
