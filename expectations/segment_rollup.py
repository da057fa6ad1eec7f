"""The segment rollup: this build's members of every segment, and sizes per build."""

import great_expectations as gx
import great_expectations.expectations as gxe

MEMBERS, SIZES = "segment_members", "segment_sizes"


def build_members_suite() -> gx.ExpectationSuite:
    """One row per segment and member; members are real profile ids."""
    suite = gx.ExpectationSuite(name=MEMBERS)
    for column in ("segment_name", "person_id"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["segment_name", "person_id"])
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(column="person_id", regex=r"^k[pv]_.+$")
    )
    return suite


def build_sizes_suite() -> gx.ExpectationSuite:
    """One row per segment and build, with counts that cannot be negative."""
    suite = gx.ExpectationSuite(name=SIZES)
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["segment_name", "measured_at"])
    )
    for column in ("member_count", "entered_count", "exited_count"):
        suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    return suite
