{#- Every rule has a priority of at least 1 and a limit of at least 1 (or none): a limit of 0
    would drop every identifier of its type without saying so. -#}
with

rules as (
    select * from {{ ref('identity_rules') }}
),

final as (
    select
        identifier_type,
        priority,
        max_per_person
    from rules
    where
        priority < 1
        or max_per_person < 1
)

select * from final
