"""The golden-record table: one row per person, clean contact points, sane money."""

import great_expectations as gx
import great_expectations.expectations as gxe

TABLE = "dim_profiles"

# Deliberately simple: the full syntax check happens in staging; this catches a broken build.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
E164_PATTERN = r"^\+[1-9][0-9]{7,14}$"


def build_suite() -> gx.ExpectationSuite:
    """Expectations that block publication (severity error) unless marked warn."""
    suite = gx.ExpectationSuite(name=TABLE)
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="person_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="person_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL_PATTERN))
    suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="phone", regex=E164_PATTERN))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="revenue", min_value=0))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="order_count", min_value=0))
    suite.add_expectation(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="last_seen_at",
            column_B="first_seen_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToNotBeNull(
            column="email",
            mostly=0.5,
            meta={"severity": "warn", "why": "most people have an email"},
        )
    )
    return suite
