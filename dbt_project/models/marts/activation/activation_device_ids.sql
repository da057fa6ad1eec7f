with

identifiers as (
    select * from {{ ref('dim_person_identifiers') }}
),

visitors as (
    select * from {{ ref('dim_visitors') }}
),

person_devices as (
    select
        person_id,
        identifier_value as anonymous_id
    from identifiers
    where identifier_type = 'anonymous_id'
),

visitor_devices as (
    select
        visitor_id as person_id,
        anonymous_id
    from visitors
),

final as (
    select * from person_devices
    union all
    select * from visitor_devices
)

select * from final
