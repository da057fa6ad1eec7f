"""Great Expectations suites, per published table: SUITES maps table -> builder.

Every segment (a model in models/segments/) gets expectations/segment.py unless listed here.
"""

from expectations import (
    activation,
    audience_memberships,
    consent_changes,
    dim_person_identifiers,
    dim_profiles,
    dim_visitors,
    identity_audit,
    segment_memberships,
    segment_rollup,
)

SUITES = {
    dim_profiles.TABLE: dim_profiles.build_suite,
    dim_person_identifiers.TABLE: dim_person_identifiers.build_suite,
    dim_visitors.TABLE: dim_visitors.build_suite,
    consent_changes.TABLE: consent_changes.build_suite,
    audience_memberships.TABLE: audience_memberships.build_suite,
    identity_audit.AUDIT: identity_audit.build_audit_suite,
    identity_audit.MERGES: identity_audit.build_merges_suite,
    activation.IDENTIFIERS: activation.build_identifiers_suite,
    activation.DEVICES: activation.build_devices_suite,
    segment_memberships.TABLE: segment_memberships.build_suite,
    segment_rollup.MEMBERS: segment_rollup.build_members_suite,
    segment_rollup.SIZES: segment_rollup.build_sizes_suite,
}
