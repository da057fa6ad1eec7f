with

identifiers as (
    select * from {{ ref('int_identifiers_clustered') }}
),

registry as (
    select * from {{ ref('int_identifiers_registered') }}
),

observations as (
    select * from {{ ref('int_identifiers_observed') }}
),

observation_summary as (
    select
        identifier_key,
        count(*) as record_count,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from observations
    where is_linkable
    group by identifier_key
),

final as (
    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        registry.person_id,
        observation_summary.record_count,
        observation_summary.first_observed_at,
        observation_summary.last_observed_at
    from identifiers
    inner join registry
        on registry.identifier_key = identifiers.identifier_key
    inner join observation_summary
        on observation_summary.identifier_key = identifiers.identifier_key
    where identifiers.is_person
)

select * from final
