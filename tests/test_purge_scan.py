"""The token scan of the privacy purge (klant.privacy.purge) on a small DuckDB file.

The purge looks up only values as long as some token; these tests hold it to finding every
exact token, in any text column, whatever its characters, and nothing else.
"""

import duckdb
import pytest

from klant.privacy.purge import register_tokens, scrub_build

TOKENS = ["kv_3f2a-cookie", "josé.müller@example.com", "ø"]


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    con.execute("create schema marts")
    con.execute(
        "create table marts.people (id integer, name varchar, note varchar, context varchar)"
    )
    con.execute(
        "insert into marts.people values "
        "(1, 'josé.müller@example.com', null, null), "  # a token with multibyte characters
        "(2, 'jose.muller@example.com', null, null), "  # same characters but two bytes shorter
        "(3, 'Anna', 'kv_3f2a-cookie', null), "  # a token in a second column
        "(4, 'Bob', 'kv_3f2a-cookie ', null), "  # one byte more: not the token
        "(5, 'Cas', null, '{\"anonymousId\":\"kv_3f2a-cookie\"}'), "  # inside text: not equal
        "(6, 'ø', null, null), "  # a one-character, two-byte token
        "(7, 'o', null, null)"
    )
    yield con
    con.close()


def test_every_row_holding_a_token_exactly_is_deleted_and_no_other(con):
    register_tokens(con, TOKENS)
    report = scrub_build(con, set(TOKENS), set())
    assert [r[0] for r in con.execute("select id from marts.people order by id").fetchall()] == [
        2, 4, 5, 7,
    ]  # fmt: skip
    assert report.rows_removed["marts.people"] == 3


def test_no_token_deletes_nothing(con):
    register_tokens(con, [])
    assert scrub_build(con, set(), set()).total == 0
    assert con.execute("select count(*) from marts.people").fetchone()[0] == 7
