"""Membership history: one open stay per member, stays that end after they start."""

import great_expectations as gx
import great_expectations.expectations as gxe

TABLE = "segment_memberships"


def build_suite() -> gx.ExpectationSuite:
    """Expectations that block publication (severity error) unless marked warn."""
    suite = gx.ExpectationSuite(name=TABLE)
    for column in ("segment_name", "person_id", "entered_at"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["segment_name", "person_id", "entered_at"])
    )
    suite.add_expectation(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="exited_at",
            column_B="entered_at",
            or_equal=False,
            ignore_row_if="either_value_is_missing",
        )
    )
    return suite
