"""Great Expectations suites, one module per published table; SUITES maps table -> builder."""

from expectations import dim_person_identifiers, dim_profiles, dim_visitors, segment_memberships

SUITES = {
    dim_profiles.TABLE: dim_profiles.build_suite,
    dim_person_identifiers.TABLE: dim_person_identifiers.build_suite,
    dim_visitors.TABLE: dim_visitors.build_suite,
    segment_memberships.TABLE: segment_memberships.build_suite,
}
