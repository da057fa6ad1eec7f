"""Anonymous visitors: one row per cookie that never identified, with sane web traits."""

import great_expectations as gx
import great_expectations.expectations as gxe

TABLE = "dim_visitors"


def build_suite() -> gx.ExpectationSuite:
    """Expectations that block publication (severity error) unless marked warn."""
    suite = gx.ExpectationSuite(name=TABLE)
    for column in ("visitor_id", "anonymous_id"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
        suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column=column))
    suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="visitor_id", regex=r"^kv_.+$"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="session_count", min_value=1))
    for column in ("page_view_count", "product_view_count", "cart_add_count"):
        suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    suite.add_expectation(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="last_seen_at", column_B="first_seen_at", or_equal=True
        )
    )
    # a cookie holding an e-mail address would leak it to the DMP
    suite.add_expectation(gxe.ExpectColumnValuesToNotMatchRegex(column="anonymous_id", regex=r"@"))
    return suite
