"""The identity map: every identifier belongs to exactly one person."""

import great_expectations as gx
import great_expectations.expectations as gxe

TABLE = "dim_person_identifiers"


def build_suite() -> gx.ExpectationSuite:
    """An identifier mapped to two persons would merge or split profiles downstream."""
    suite = gx.ExpectationSuite(name=TABLE)
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="person_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="identifier_value"))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["identifier_type", "identifier_value"])
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="identifier_type",
            value_set=["crm_record_id", "email", "phone", "user_id", "anonymous_id"],
        )
    )
    return suite
