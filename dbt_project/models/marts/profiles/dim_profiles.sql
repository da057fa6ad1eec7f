{%- set golden_fields = [
    'first_name', 'last_name', 'email', 'phone', 'street', 'postal_code', 'city', 'country',
    'company', 'lifecycle_stage', 'consent_email', 'consent_advertising', 'consent_personalization',
] -%}

with

persons as (
    select * from {{ ref('dim_person_identifiers') }}
),

golden as (
    select * from {{ ref('int_profiles_golden') }}
),

order_traits as (
    select * from {{ ref('int_person_order_traits') }}
),

web_traits as (
    select * from {{ ref('int_person_web_traits') }}
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

{#- third-party audiences sit beside the golden record, never in it: no golden field reads them #}
audiences as (
    {{ klant.profile_audiences('person_id') }}
),

final as (
    select
        person_ids.person_id,
        {%- for field in golden_fields %}
        golden.{{ field }},
        {%- endfor %}
        cast(coalesce(order_traits.order_count, 0) as integer) as order_count,
        cast(coalesce(order_traits.revenue_order_count, 0) as integer) as revenue_order_count,
        cast(coalesce(order_traits.revenue, 0) as numeric(18, 2)) as revenue,
        order_traits.average_order_value,
        order_traits.first_order_at,
        order_traits.last_order_at,
        order_traits.days_since_last_order,
        cast(coalesce(order_traits.revenue_12m, 0) as numeric(18, 2)) as revenue_12m,
        order_traits.rfm_recency_score,
        order_traits.rfm_frequency_score,
        order_traits.rfm_monetary_score,
        order_traits.rfm_segment,
        order_traits.product_categories,
        cast(coalesce(web_traits.session_count, 0) as integer) as session_count,
        cast(coalesce(web_traits.page_view_count, 0) as integer) as page_view_count,
        cast(coalesce(web_traits.product_view_count, 0) as integer) as product_view_count,
        cast(coalesce(web_traits.cart_add_count, 0) as integer) as cart_add_count,
        web_traits.last_cart_add_at,
        web_traits.first_touch_utm_source,
        web_traits.first_touch_utm_medium,
        web_traits.first_touch_utm_campaign,
        web_traits.last_touch_utm_source,
        web_traits.last_touch_utm_medium,
        web_traits.last_touch_utm_campaign,
        web_traits.preferred_device,
        web_traits.web_first_seen_at,
        web_traits.web_last_seen_at,
        activity.first_seen_at,
        activity.last_seen_at,
        cast(coalesce(activity.record_count, 0) as integer) as record_count,
        coalesce(activity.is_in_crm, false) as is_in_crm,
        coalesce(activity.is_in_commerce, false) as is_in_commerce,
        coalesce(activity.is_in_web, false) as is_in_web,
        audiences.dmp_audience_codes,
        cast(coalesce(audiences.dmp_audience_count, 0) as integer) as dmp_audience_count,
        {%- for field in golden_fields %}
        golden.{{ field }}_source,
        golden.{{ field }}_updated_at{{ ',' if not loop.last }}
        {%- endfor %}
    from person_ids
    left join golden
        on golden.person_id = person_ids.person_id
    left join order_traits
        on order_traits.person_id = person_ids.person_id
    left join web_traits
        on web_traits.person_id = person_ids.person_id
    left join activity
        on activity.person_id = person_ids.person_id
    left join audiences
        on audiences.person_id = person_ids.person_id
)

select * from final
