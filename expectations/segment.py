"""Every segment table (a model in models/segments/): one row per member, a real profile id."""

from functools import partial

import great_expectations as gx
import great_expectations.expectations as gxe

# kp_ + the registry's sequence for a known person, kv_ + the cookie id for an anonymous visitor
PROFILE_ID_PATTERN = r"^k[pv]_.+$"


def build_suite(table: str) -> gx.ExpectationSuite:
    """The suite of one segment table; an empty segment is allowed (it warns)."""
    suite = gx.ExpectationSuite(name=f"segment_{table}")
    suite.add_expectation(gxe.ExpectColumnToExist(column="person_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="person_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="person_id"))
    suite.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(column="person_id", regex=PROFILE_ID_PATTERN)
    )
    suite.add_expectation(
        gxe.ExpectTableRowCountToBeBetween(
            min_value=1, meta={"severity": "warn", "why": "an empty segment exports nobody"}
        )
    )
    return suite


def suite_for(table: str):
    """A zero-argument suite builder for one segment table."""
    return partial(build_suite, table)
