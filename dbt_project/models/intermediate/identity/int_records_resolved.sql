with

observations as (
    select * from {{ ref('int_identifiers_observed') }}
),

identifiers as (
    select * from {{ ref('int_identifiers_registered') }}
),

rules as (
    select * from {{ ref('identity_rules') }}
),

{#- the limits can leave a record's identifiers in different persons (a dropped link between
    two e-mails of one order): the record belongs to the person of its strongest identifier,
    by rule priority, then earliest sighting, then smallest key #}
candidates as (
    select
        observations.source,
        observations.record_key,
        identifiers.person_id,
        row_number() over (
            partition by observations.source, observations.record_key
            order by
                coalesce(rules.priority, 1000000),
                identifiers.first_seen_at nulls last,
                {{ klant.collate_binary('observations.identifier_key') }}
        ) as candidate_rank,
        min(observations.observed_at) over (
            partition by observations.source, observations.record_key
        ) as observed_at
    from observations
    inner join identifiers
        on identifiers.identifier_key = observations.identifier_key
    left join rules
        on rules.identifier_type = observations.identifier_type
    where observations.is_linkable
),

final as (
    select
        source,
        record_key,
        person_id,
        observed_at
    from candidates
    where candidate_rank = 1
)

select * from final
