"""Consent history: one row per change of a profile's consent to a purpose, told consistently."""

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

TABLE = "fct_consent_changes"

PURPOSES = ["email", "advertising", "personalization"]
SOURCES = ["crm", "commerce", "web"]
PROFILE_ID_PATTERN = r"^k[pv]_.+$"
# the kind of a change follows from the answer: a first statement says either, a grant yes,
# a revocation no
CHANGE_TYPES_BY_ANSWER = {
    True: ["first_statement", "granted"],
    False: ["first_statement", "revoked"],
}
VISITOR_PURPOSES = ["advertising", "personalization"]


def build_suite() -> gx.ExpectationSuite:
    """Expectations that block publication (severity error) unless marked warn."""
    suite = gx.ExpectationSuite(name=TABLE)
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="consent_change_id"))
    for column in (
        "consent_change_id", "profile_id", "profile_type", "purpose", "granted", "change_type",
        "source", "record_key", "statement_count", "last_stated_source",
        "last_stated_record_key", "change_number", "is_current",
    ):  # fmt: skip
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["profile_id", "purpose", "change_number"])
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(column="profile_id", regex=PROFILE_ID_PATTERN)
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="profile_type", value_set=["person", "visitor"])
    )
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="purpose", value_set=PURPOSES))
    for column in ("source", "last_stated_source"):
        suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=SOURCES))
    # one in-set check per answer, not a column pair check: GX's pandas engine checks pairs row
    # by row in Python (13 s on 290k rows), a row condition is one vectorized filter; a missing
    # answer is caught by the not-null checks above
    for answer, change_types in CHANGE_TYPES_BY_ANSWER.items():
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeInSet(
                column="change_type",
                value_set=change_types,
                row_condition=Column("granted") == answer,
            )
        )
    for column in ("change_number", "statement_count"):
        suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=1))
    # a restatement never comes before the change it repeats
    suite.add_expectation(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="last_stated_at",
            column_B="changed_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    )
    # a visitor left no e-mail, so it states consent to the web purposes only (a row condition
    # for the same reason as above; a person's purposes are the purpose set's)
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="purpose",
            value_set=VISITOR_PURPOSES,
            row_condition=Column("profile_type") == "visitor",
        )
    )
    for column in ("person_id", "visitor_id"):
        suite.add_expectation(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="profile_id", column_B=column, ignore_row_if="either_value_is_missing"
            )
        )
    return suite
