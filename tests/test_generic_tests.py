"""The generic dbt test unique_combination_of_columns, as compiled for DuckDB, on rows with and
without duplicates: the hashed query must report exactly the repeated combinations."""

from pathlib import Path

import duckdb
import pytest

from tests.conftest import dbt_compile

COLUMNS = ["person_id", "attribute", "source", "record_key", "attribute_value"]


@pytest.fixture(scope="module")
def unique_test_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("compiled")
    done = dbt_compile("test_type:generic,int_profile_values_unioned", target)
    assert done.returncode == 0, done.stdout[-2000:]
    (compiled,) = [
        path
        for path in target.rglob("*.sql")
        if path.name.startswith("unique_combination_of_columns")
    ]
    sql = compiled.read_text()
    assert "hash(" in sql, "DuckDB should get the hashed version"
    return sql


def failures(tmp_path: Path, sql: str, rows: list[tuple]) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_profile_values_unioned ("
            + ", ".join(f"{column} varchar" for column in COLUMNS)
            + ", observed_at timestamp)"
        )
        con.executemany(
            "insert into intermediate.int_profile_values_unioned values (?, ?, ?, ?, ?, null)", rows
        )
        return sorted(con.execute(sql).fetchall(), key=repr)


DISTINCT = [
    ("kp_1", "email", "crm", "c1", "a@example.com"),
    ("kp_1", "email", "crm", "c1", "b@example.com"),
    ("kp_1", "email", "crm", "c2", "a@example.com"),
    ("kp_1", "email", "web", "c1", "a@example.com"),
    ("kp_2", "email", "crm", "c1", "a@example.com"),
    ("kp_1", "phone", "crm", "c1", "a@example.com"),
    ("kp_1", "email", "crm", "c1", None),
    ("kp_1", "email", None, "c1", "a@example.com"),
    ("kp_1", "email", "crm", None, None),
] + [(f"kp_{n}", "first_name", "web", f"m{n}", "Jan") for n in range(5000)]


def test_distinct_rows_pass(tmp_path: Path, unique_test_sql: str):
    assert failures(tmp_path, unique_test_sql, DISTINCT) == []


def test_each_repeated_combination_fails_once_with_its_count(tmp_path: Path, unique_test_sql: str):
    rows = DISTINCT + [DISTINCT[0], DISTINCT[6], DISTINCT[6], DISTINCT[8], DISTINCT[4000]]
    assert failures(tmp_path, unique_test_sql, rows) == sorted(
        [DISTINCT[0] + (2,), DISTINCT[6] + (3,), DISTINCT[8] + (2,), DISTINCT[4000] + (2,)],
        key=repr,
    )
