with

persons as (
    select * from {{ ref('dim_person_identifiers') }}
),

profile_values as (
    select * from {{ ref('int_profile_values_unioned') }}
),

orders as (
    select * from {{ ref('int_orders_attributed') }}
),

records as (
    select * from {{ ref('int_records_resolved') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

person_ids as (
    select distinct person_id from persons
),

{#- survivorship, field by field: the source with the best priority wins (crm, then
    commerce, then web), and within a source the most recent well-formed value #}
ranked_values as (
    select
        *,
        row_number() over (
            partition by person_id, attribute
            order by
                source_priority,
                case when is_well_formed then 0 else 1 end,
                observed_at desc nulls last,
                attribute_value
        ) as value_rank
    from profile_values
),

winning_values as (
    select
        person_id,
        max(case when attribute = 'first_name' then attribute_value end) as first_name,
        max(case when attribute = 'first_name' then source end) as first_name_source,
        max(case when attribute = 'last_name' then attribute_value end) as last_name,
        max(case when attribute = 'last_name' then source end) as last_name_source,
        max(case when attribute = 'email' then attribute_value end) as email,
        max(case when attribute = 'email' then source end) as email_source,
        max(case when attribute = 'phone' then attribute_value end) as phone,
        max(case when attribute = 'phone' then source end) as phone_source,
        max(case when attribute = 'country' then attribute_value end) as country,
        max(case when attribute = 'country' then source end) as country_source
    from ranked_values
    where value_rank = 1
    group by person_id
),

order_totals as (
    select
        person_id,
        count(*) as order_count,
        sum(case when is_revenue_bearing then 1 else 0 end) as revenue_order_count,
        sum(case when is_revenue_bearing then net_revenue else 0 end) as revenue,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at
    from orders
    where person_id is not null
    group by person_id
),

{#- first seen uses the CRM create date, last seen its last modification #}
record_activity as (
    select
        records.person_id,
        records.source,
        coalesce(contacts.created_at, records.observed_at) as first_at,
        coalesce(contacts.last_modified_at, records.observed_at) as last_at
    from records
    left join contacts
        on
            records.source = 'crm'
            and contacts.contact_id = records.record_key
),

activity as (
    select
        person_id,
        min(first_at) as first_seen_at,
        max(last_at) as last_seen_at,
        count(*) as record_count,
        max(case when source = 'crm' then 1 else 0 end) = 1 as is_in_crm,
        max(case when source = 'commerce' then 1 else 0 end) = 1 as is_in_commerce,
        max(case when source = 'web' then 1 else 0 end) = 1 as is_in_web
    from record_activity
    group by person_id
),

final as (
    select
        person_ids.person_id,
        winning_values.first_name,
        winning_values.last_name,
        winning_values.email,
        winning_values.phone,
        winning_values.country,
        cast(coalesce(order_totals.order_count, 0) as integer) as order_count,
        cast(coalesce(order_totals.revenue_order_count, 0) as integer) as revenue_order_count,
        cast(coalesce(order_totals.revenue, 0) as numeric(18, 2)) as revenue,
        order_totals.first_order_at,
        order_totals.last_order_at,
        activity.first_seen_at,
        activity.last_seen_at,
        winning_values.first_name_source,
        winning_values.last_name_source,
        winning_values.email_source,
        winning_values.phone_source,
        winning_values.country_source,
        cast(coalesce(activity.record_count, 0) as integer) as record_count,
        coalesce(activity.is_in_crm, false) as is_in_crm,
        coalesce(activity.is_in_commerce, false) as is_in_commerce,
        coalesce(activity.is_in_web, false) as is_in_web
    from person_ids
    left join winning_values
        on winning_values.person_id = person_ids.person_id
    left join order_totals
        on order_totals.person_id = person_ids.person_id
    left join activity
        on activity.person_id = person_ids.person_id
)

select * from final
