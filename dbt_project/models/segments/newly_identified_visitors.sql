with

identifiers as (
    select * from {{ ref('dim_person_identifiers') }}
),

{#- when each person first became known (any identifier but a cookie) and when their devices
    were first seen #}
person_firsts as (
    select
        person_id,
        min(case when identifier_type <> 'anonymous_id' then first_observed_at end)
            as identified_at,
        min(case when identifier_type = 'anonymous_id' then first_observed_at end)
            as first_anonymous_at
    from identifiers
    group by person_id
),

final as (
    select
        person_id,
        identified_at,
        first_anonymous_at
    from person_firsts
    where
        {{ klant.in_last_days('identified_at', var('klant__newly_identified_days')) }}
        and first_anonymous_at < identified_at
)

select * from final
