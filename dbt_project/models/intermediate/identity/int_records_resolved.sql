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

candidates as (
    select
        observations.source,
        observations.record_key,
        observations.identifier_key,
        observations.identifier_type,
        observations.observed_at,
        identifiers.person_id,
        identifiers.first_seen_at
    from observations
    inner join identifiers
        on identifiers.identifier_key = observations.identifier_key
    where observations.is_linkable
),

{#- nearly every record's identifiers sit in one person: it needs no ranking #}
records as (
    select
        source,
        record_key,
        min(person_id) as person_id,
        max(person_id) as other_person_id,
        min(observed_at) as observed_at
    from candidates
    group by source, record_key
),

{#- the limits can leave a record's identifiers in different persons (a dropped link between
    two e-mails of one order): the record belongs to the person of its strongest identifier,
    by rule priority, then earliest sighting, then smallest key #}
contested as (
    select
        candidates.source,
        candidates.record_key,
        candidates.person_id,
        records.observed_at,
        row_number() over (
            partition by candidates.source, candidates.record_key
            order by
                coalesce(rules.priority, 1000000),
                candidates.first_seen_at nulls last,
                {{ klant.collate_binary('candidates.identifier_key') }}
        ) as candidate_rank
    from candidates
    inner join records
        on
            records.source = candidates.source
            and records.record_key = candidates.record_key
            and records.person_id <> records.other_person_id
    left join rules
        on rules.identifier_type = candidates.identifier_type
),

final as (
    select
        source,
        record_key,
        person_id,
        observed_at
    from records
    where person_id = other_person_id
    union all
    select
        source,
        record_key,
        person_id,
        observed_at
    from contested
    where candidate_rank = 1
)

select * from final
