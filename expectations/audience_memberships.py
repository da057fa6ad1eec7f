"""Third-party audience memberships: keyed, each on exactly one person or visitor, unexpired."""

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

TABLE = "fct_audience_memberships"
MATCHED_BY = ["cookie", "hashed_email"]


def build_suite() -> gx.ExpectationSuite:
    """Expectations that block publication (severity error) unless marked warn."""
    suite = gx.ExpectationSuite(name=TABLE)
    for column in (
        "profile_id", "audience_code", "provider", "fetched_at", "expires_at", "matched_by",
    ):  # fmt: skip
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["profile_id", "audience_code", "provider"])
    )
    # exactly one of person_id and visitor_id, and profile_id is that one
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeNull(
            column="visitor_id", row_condition=Column("person_id").is_not_null()
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToNotBeNull(
            column="visitor_id", row_condition=Column("person_id").is_null()
        )
    )
    for column, pattern in (("person_id", r"^kp_.+$"), ("visitor_id", r"^kv_.+$")):
        suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column=column, regex=pattern))
        suite.add_expectation(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="profile_id", column_B=column, ignore_row_if="either_value_is_missing"
            )
        )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="matched_by", value_set=MATCHED_BY)
    )
    # a visitor is only ever found by its cookie: it has no e-mail to hash
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="matched_by",
            value_set=["cookie"],
            row_condition=Column("visitor_id").is_not_null(),
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="expires_at", column_B="fetched_at", or_equal=False
        )
    )
    return suite
