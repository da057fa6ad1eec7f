with

observations as (
    select * from {{ ref('int_identifiers_observed') }}
),

identifiers as (
    select * from {{ ref('int_identifiers_clustered') }}
),

{#- every linkable identifier of a record sits in the same component (the record links them),
    so a record resolves to at most one person #}
final as (
    select
        observations.source,
        observations.record_key,
        min(identifiers.person_id) as person_id,
        min(observations.observed_at) as observed_at
    from observations
    inner join identifiers
        on identifiers.identifier_key = observations.identifier_key
    where
        observations.is_linkable
        and identifiers.is_person
    group by
        observations.source,
        observations.record_key
)

select * from final
