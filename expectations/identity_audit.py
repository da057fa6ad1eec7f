"""The identity audit trail: why an identifier links no one, and which person ids merged."""

import great_expectations as gx
import great_expectations.expectations as gxe

AUDIT, MERGES = "fct_identity_audit", "fct_person_merges"
RULES = ["blocklist", "invalid", "limit", "shared_device"]


def build_audit_suite() -> gx.ExpectationSuite:
    """Every dropped identifier names its rule and the records it touched."""
    suite = gx.ExpectationSuite(name=AUDIT)
    for column in ("identifier_type", "identifier_value", "rule", "reason"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="rule", value_set=RULES))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="records_affected", min_value=1))
    return suite


def build_merges_suite() -> gx.ExpectationSuite:
    """A merge moves an old id into a surviving one, once: a merged id never comes back."""
    suite = gx.ExpectationSuite(name=MERGES)
    for column in ("old_person_id", "surviving_person_id", "merged_at"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="old_person_id"))
    return suite
