{%- set source_priority = var('klant__source_priority') -%}

with

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

orders as (
    select * from {{ ref('stg_commerce__orders') }}
),

events as (
    select * from {{ ref('stg_web__events') }}
),

observations as (
    select * from {{ ref('int_identifiers_observed') }}
),

records as (
    select * from {{ ref('int_records_resolved') }}
),

person_identifiers as (
    select * from {{ ref('int_identifiers_registered') }}
),

crm_values as (
    select
        'crm' as source,
        contact_id as record_key,
        'first_name' as attribute,
        first_name as attribute_value,
        last_modified_at as observed_at
    from contacts
    union all
    select
        'crm' as source,
        contact_id as record_key,
        'last_name' as attribute,
        last_name as attribute_value,
        last_modified_at as observed_at
    from contacts
    union all
    select
        'crm' as source,
        contact_id as record_key,
        'country' as attribute,
        country_code as attribute_value,
        last_modified_at as observed_at
    from contacts
),

{#- Shopify has one Billing Name: the first word is the first name, the rest the last name
    ("Jan de Vries" -> "Jan", "de Vries") #}
commerce_values as (
    select
        'commerce' as source,
        order_name as record_key,
        'first_name' as attribute,
        {{ dbt.split_part('billing_name', "' '", 1) }} as attribute_value,
        created_at as observed_at
    from orders
    union all
    select
        'commerce' as source,
        order_name as record_key,
        'last_name' as attribute,
        case
            when {{ dbt.position("' '", 'billing_name') }} > 0
                then trim(substr(billing_name, {{ dbt.position("' '", 'billing_name') }} + 1))
        end as attribute_value,
        created_at as observed_at
    from orders
    union all
    select
        'commerce' as source,
        order_name as record_key,
        'country' as attribute,
        billing_country_code as attribute_value,
        created_at as observed_at
    from orders
),

web_values as (
    select
        'web' as source,
        message_id as record_key,
        'first_name' as attribute,
        trait_first_name as attribute_value,
        event_at as observed_at
    from events
    union all
    select
        'web' as source,
        message_id as record_key,
        'last_name' as attribute,
        trait_last_name as attribute_value,
        event_at as observed_at
    from events
),

{#- e-mails and phones come normalized from the identity observations, only those the identity
    rules kept for the record's own person (not a value dropped as shared by several people) #}
identifier_values as (
    select
        observations.source,
        observations.record_key,
        observations.identifier_type as attribute,
        observations.identifier_value as attribute_value,
        observations.observed_at
    from observations
    inner join person_identifiers
        on person_identifiers.identifier_key = observations.identifier_key
    inner join records
        on
            records.source = observations.source
            and records.record_key = observations.record_key
            and records.person_id = person_identifiers.person_id
    where
        observations.identifier_type in ('email', 'phone')
        and observations.is_linkable
),

unioned as (
    select * from crm_values
    union all
    select * from commerce_values
    union all
    select * from web_values
    union all
    select * from identifier_values
),

final as (
    select
        records.person_id,
        unioned.attribute,
        unioned.attribute_value,
        unioned.source,
        case unioned.source
            {%- for source, priority in source_priority.items() %}
            when '{{ source }}' then {{ priority }}
            {%- endfor %}
            else 99
        end as source_priority,
        {#- a name typed all in lower or upper case loses to a well-cased one of the same source #}
        coalesce(
            unioned.attribute not in ('first_name', 'last_name')
            or (
                unioned.attribute_value <> lower(unioned.attribute_value)
                and unioned.attribute_value <> upper(unioned.attribute_value)
            ),
            false
        ) as is_well_formed,
        unioned.record_key,
        unioned.observed_at
    from unioned
    inner join records
        on
            records.source = unioned.source
            and records.record_key = unioned.record_key
    where nullif(trim(unioned.attribute_value), '') is not null
)

select * from final
