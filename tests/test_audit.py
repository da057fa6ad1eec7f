"""The GX gate on DuckDB: one bad row in a build table fails it."""

from pathlib import Path

import duckdb
import pytest

from expectations import SUITES
from klant.audit import ERROR, WARN, validate_table

GOOD_ROWS = """
    select * from (values
        ('kp_1', 'Anna', 'anna@example.com', '+31612345678', 2, 120.50,
         timestamp '2026-01-01', timestamp '2026-03-01'),
        ('kp_2', 'Bram', 'bram@example.nl', null, 0, 0.00,
         timestamp '2026-02-01', timestamp '2026-02-01'),
        ('kp_3', 'Cas', 'cas@example.de', '+4915123456789', 1, 35.00,
         timestamp '2026-02-03', timestamp '2026-05-01')
    ) as t(person_id, first_name, email, phone, order_count, revenue, first_seen_at, last_seen_at)
"""


TRAIT_COLUMNS = {
    "rfm_recency_score": "integer", "rfm_frequency_score": "integer",
    "rfm_monetary_score": "integer", "rfm_segment": "varchar", "average_order_value": "decimal",
    "revenue_12m": "decimal", "days_since_last_order": "integer", "session_count": "integer",
    "page_view_count": "integer", "product_view_count": "integer", "cart_add_count": "integer",
    "preferred_device": "varchar", "email_source": "varchar", "consent_email_source": "varchar",
    "consent_advertising_source": "varchar",
}  # fmt: skip
COLUMNS = "(person_id, first_name, email, phone, order_count, revenue, first_seen_at, last_seen_at)"


@pytest.fixture
def con(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    con.execute("create schema marts")
    con.execute(f"create table marts.dim_profiles as {GOOD_ROWS}")
    # the traits, sources and consent columns the suite also checks, empty (as for a person
    # without orders or web events)
    for column, kind in TRAIT_COLUMNS.items():
        con.execute(f"alter table marts.dim_profiles add column {column} {kind}")
    yield con
    con.close()


def test_a_good_build_passes(con):
    outcome = validate_table(con, "marts.dim_profiles", SUITES["dim_profiles"])
    assert outcome.passed, outcome.failures
    assert outcome.rows == 3 and outcome.evaluated >= 8


@pytest.mark.parametrize(
    ("bad_row", "expectation"),
    [
        ("('kp_1', 'Dup', 'd@example.com', null, 0, 0, null, null)",
         "expect_column_values_to_be_unique"),
        ("(null, 'NoId', 'n@example.com', null, 0, 0, null, null)",
         "expect_column_values_to_not_be_null"),
        ("('kp_9', 'Bad', 'not-an-email', null, 0, 0, null, null)",
         "expect_column_values_to_match_regex"),
        ("('kp_9', 'Neg', 'neg@example.com', null, 1, -5, null, null)",
         "expect_column_values_to_be_between"),
        ("('kp_9', 'Time', 't@example.com', null, 0, 0, "
         "timestamp '2026-05-01', timestamp '2026-01-01')",
         "expect_column_pair_values_a_to_be_greater_than_b"),
    ],
)  # fmt: skip
def test_one_bad_row_fails_the_gate(con, bad_row: str, expectation: str):
    con.execute(f"insert into marts.dim_profiles {COLUMNS} values {bad_row}")
    outcome = validate_table(con, "marts.dim_profiles", SUITES["dim_profiles"])
    assert not outcome.passed
    assert outcome.severity == ERROR
    assert [f["expectation"] for f in outcome.blocking_failures] == [expectation]


def test_gx_does_not_hash_the_whole_table_and_still_fails_a_bad_row(con, monkeypatch):
    from great_expectations.execution_engine import pandas_execution_engine

    def refuse(df):
        raise AssertionError("GX hashed the whole DataFrame")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", refuse)
    assert validate_table(con, "marts.dim_profiles", SUITES["dim_profiles"]).passed
    con.execute(f"insert into marts.dim_profiles {COLUMNS} values (null, 'x', null, null, 0, 0, "
                "null, null)")  # fmt: skip
    assert not validate_table(con, "marts.dim_profiles", SUITES["dim_profiles"]).passed


def test_an_empty_table_fails(con):
    con.execute("delete from marts.dim_profiles")
    outcome = validate_table(con, "marts.dim_profiles", SUITES["dim_profiles"])
    assert outcome.severity == ERROR
    assert "expect_table_row_count_to_be_between" in [
        f["expectation"] for f in outcome.blocking_failures
    ]


def test_a_warning_does_not_block(con):
    con.execute("update marts.dim_profiles set email = null where person_id <> 'kp_1'")
    outcome = validate_table(con, "marts.dim_profiles", SUITES["dim_profiles"])
    assert not outcome.passed
    assert outcome.severity == WARN and outcome.blocking_failures == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "breakage",
    [
        "change_type = 'revoked' where granted",  # a revocation that says yes
        "change_type = 'granted' where not granted",  # a grant that says no
        "purpose = 'email' where profile_type = 'visitor'",  # a visitor left no e-mail
    ],
)
def test_one_inconsistent_consent_change_fails_its_gate(sample_build, tmp_path: Path, breakage):
    """The consent history's row-condition checks (cheap in GX's pandas engine) still catch
    the one row whose kind, answer and profile disagree."""
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    try:
        con.execute(f"attach '{sample_build.build_db}' as sample (read_only)")
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_consent_changes as "
            "select * from sample.marts.fct_consent_changes"
        )
        con.execute("detach sample")
        suite = SUITES["fct_consent_changes"]
        assert validate_table(con, "marts.fct_consent_changes", suite).passed
        column, _, condition = breakage.partition(" where ")
        con.execute(
            f"update marts.fct_consent_changes set {column} where consent_change_id = "
            f"(select min(consent_change_id) from marts.fct_consent_changes where {condition})"
        )
        outcome = validate_table(con, "marts.fct_consent_changes", suite)
    finally:
        con.close()
    assert [f["expectation"] for f in outcome.blocking_failures] == [
        "expect_column_values_to_be_in_set"
    ]


def test_a_suite_reads_only_the_columns_it_checks_and_those_of_its_row_conditions() -> None:
    import great_expectations.expectations as gxe

    from klant.audit import _context, suite_columns

    _context()
    suite = SUITES["fct_consent_changes"]()
    columns = ["granted", "profile_type", "change_type", "purpose", "never_checked_column"]
    chosen = suite_columns(suite, columns)
    # granted and profile_type appear only in row conditions; they must still be read
    assert {"granted", "profile_type", "change_type", "purpose"} <= set(chosen)
    assert "never_checked_column" not in chosen
    # an expectation that names columns some other way reads the whole table
    suite.add_expectation(gxe.ExpectTableColumnsToMatchSet(column_set=["granted"]))
    assert suite_columns(suite, columns) == columns


# one value of each DuckDB type a build table may have; the first ones take the Arrow path
VALUES_BY_TYPE = {
    "varchar": "'a'", "boolean": "true", "tinyint": "1", "smallint": "1", "integer": "1",
    "bigint": "1", "utinyint": "1", "usmallint": "1", "uinteger": "1", "ubigint": "1",
    "hugeint": "1", "float": "1.5", "double": "1.5", "decimal(12,2)": "120.50",
    "decimal(38,10)": "1.25", "date": "date '2026-01-01'",
    "timestamp": "timestamp '2026-01-01 12:00:00'",
    "timestamptz": "timestamptz '2026-01-01 12:00:00+00'",
    # read with .df(): Arrow gives them another form
    "uuid": "'00000000-0000-0000-0000-000000000001'", "interval": "interval 1 day",
    "json": "'{\"a\": 1}'", "varchar[]": "['a']",
}  # fmt: skip


@pytest.mark.parametrize("kind", list(VALUES_BY_TYPE))
@pytest.mark.parametrize("nulls", [False, True], ids=["no-nulls", "nulls"])
def test_a_table_is_read_into_pandas_as_duckdb_df_reads_it(kind: str, nulls: bool) -> None:
    """read_frame goes through Arrow for speed, yet gives exactly the dtypes and values of
    DuckDB's .df() (which GX's pandas engine was written against): nullable integers and
    booleans where a null is, datetimes for dates, floats for decimals; other types fall back."""
    import pandas as pd

    from klant.audit import read_frame

    con = duckdb.connect()
    value = VALUES_BY_TYPE[kind]
    sql = f"select cast({value} as {kind}) as c, 'x' as s, 7 as n"
    if nulls:
        sql += f" union all select cast(null as {kind}), null, null"
    for query in (sql, f"select * from ({sql}) where false"):
        pd.testing.assert_frame_equal(read_frame(con, query), con.execute(query).df())


def test_a_result_with_a_column_name_twice_is_read_as_df_reads_it() -> None:
    import pandas as pd

    from klant.audit import read_frame

    con = duckdb.connect()
    sql = "select 1 as a, 'x' as a"
    pd.testing.assert_frame_equal(read_frame(con, sql), con.execute(sql).df())
