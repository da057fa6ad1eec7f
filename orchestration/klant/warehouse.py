"""Small questions klant's own code asks of a DuckDB warehouse file."""

from __future__ import annotations

import duckdb


def relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Whether the table or view `schema.name` exists in the connection's database."""
    schema, name = relation.split(".")
    (count,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(count)
