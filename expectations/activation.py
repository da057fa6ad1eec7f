"""The activation marts: hashes that are hashes, one row per profile or device, real ids.

A clear e-mail or phone in a hash column would leave the warehouse in an export file, so these
expectations block publication, before any export runs.
"""

import great_expectations as gx
import great_expectations.expectations as gxe

IDENTIFIERS, DEVICES = "activation_identifiers", "activation_device_ids"
SHA256_HEX = r"^[0-9a-f]{64}$"
PROFILE_ID = r"^k[pv]_.+$"


def build_identifiers_suite() -> gx.ExpectationSuite:
    """One row per profile; every hash column holds a SHA-256 hex digest or nothing."""
    suite = gx.ExpectationSuite(name=IDENTIFIERS)
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="person_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="person_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="person_id", regex=PROFILE_ID))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="profile_type", value_set=["person", "visitor"])
    )
    for column in ("email_sha256", "phone_sha256", "phone_digits_sha256"):
        suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column=column, regex=SHA256_HEX))
    return suite


def build_devices_suite() -> gx.ExpectationSuite:
    """One row per profile and cookie id; a cookie id holding an e-mail never reaches a DMP."""
    suite = gx.ExpectationSuite(name=DEVICES)
    for column in ("person_id", "anonymous_id"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="person_id", regex=PROFILE_ID))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["person_id", "anonymous_id"])
    )
    suite.add_expectation(gxe.ExpectColumnValuesToNotMatchRegex(column="anonymous_id", regex="@"))
    return suite
