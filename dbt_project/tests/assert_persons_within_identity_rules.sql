{#- No person holds more identifiers of a type than identity_rules allows. -#}
with

identifiers as (
    select * from {{ ref('dim_person_identifiers') }}
),

rules as (
    select * from {{ ref('identity_rules') }}
),

counts as (
    select
        person_id,
        identifier_type,
        count(*) as identifier_count
    from identifiers
    group by person_id, identifier_type
),

final as (
    select
        counts.person_id,
        counts.identifier_type,
        counts.identifier_count,
        rules.max_per_person
    from counts
    inner join rules
        on rules.identifier_type = counts.identifier_type
    where counts.identifier_count > rules.max_per_person
)

select * from final
