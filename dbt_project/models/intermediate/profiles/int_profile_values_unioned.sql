{#- the profile fields each source states, each a column of the source's *_fields CTE -#}
{%- set crm_attributes = [
    'first_name', 'last_name', 'street', 'postal_code', 'city', 'country', 'company',
    'lifecycle_stage', 'consent_email',
] -%}
{%- set commerce_attributes = [
    'first_name', 'last_name', 'street', 'postal_code', 'city', 'country', 'company',
    'consent_email',
] -%}
{%- set web_attributes = [
    'first_name', 'last_name', 'consent_advertising', 'consent_personalization',
] -%}
{%- set sources = [
    ('crm', crm_attributes), ('commerce', commerce_attributes), ('web', web_attributes),
] -%}
{#- every field some source states -#}
{%- set all_attributes = [
    'first_name', 'last_name', 'street', 'postal_code', 'city', 'country', 'company',
    'lifecycle_stage', 'consent_email', 'consent_advertising', 'consent_personalization',
] -%}

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

{#- every value is text; a consent statement is 'true' or 'false', and null (no statement, such
    as an event without consent context) is no value. A contact's values date from its last
    modification (its creation when that is unreadable), the time identity gives the record. #}
crm_fields as (
    select
        contact_id as record_key,
        coalesce(last_modified_at, created_at) as observed_at,
        first_name,
        last_name,
        street_address as street,
        postal_code,
        city,
        country_code as country,
        company_name as company,
        lifecycle_stage,
        cast(is_marketing_email_opted_in as {{ dbt.type_string() }}) as consent_email
    from contacts
),

{#- Shopify has one Billing Name: the first word is the first name, the rest the last name
    ("Jan de Vries" -> "Jan", "de Vries") #}
commerce_fields as (
    select
        order_name as record_key,
        created_at as observed_at,
        {{ dbt.split_part('billing_name', "' '", 1) }} as first_name,
        case
            when {{ dbt.position("' '", 'billing_name') }} > 0
                then trim(substr(billing_name, {{ dbt.position("' '", 'billing_name') }} + 1))
        end as last_name,
        billing_street as street,
        billing_zip as postal_code,
        billing_city as city,
        billing_country_code as country,
        billing_company as company,
        cast(accepts_marketing as {{ dbt.type_string() }}) as consent_email
    from orders
),

web_fields as (
    select
        message_id as record_key,
        event_at as observed_at,
        trait_first_name as first_name,
        trait_last_name as last_name,
        cast(consent_advertising as {{ dbt.type_string() }}) as consent_advertising,
        cast(consent_personalization as {{ dbt.type_string() }}) as consent_personalization
    from events
),

{#- each source record once with the person identity gives it (one join for all sources), its
    fields in the same columns; a field a source does not state is null there #}
stated as (
    {%- for source, attributes in sources %}
    select
        '{{ source }}' as source,
        record_key,
        {%- for attribute in all_attributes %}
        {%- if attribute in attributes %}
        {{ attribute }},
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as {{ attribute }},
        {%- endif %}
        {%- endfor %}
        observed_at
    from {{ source }}_fields
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

resolved as (
    select
        records.person_id,
        stated.*
    from stated
    inner join records
        on
            records.source = stated.source
            and records.record_key = stated.record_key
),

{#- the fields each source states, one row each: a record turned into a row per field #}
source_attributes as (
    {%- for source, attributes in sources %}
    {%- set outer_loop = loop %}
    {%- for attribute in attributes %}
    select '{{ source }}' as source, '{{ attribute }}' as attribute
    {%- if not (outer_loop.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
),

record_values as (
    select
        resolved.person_id,
        resolved.source,
        resolved.record_key,
        source_attributes.attribute,
        case source_attributes.attribute
            {%- for attribute in all_attributes %}
            when '{{ attribute }}' then resolved.{{ attribute }}
            {%- endfor %}
        end as attribute_value,
        resolved.observed_at
    from resolved
    inner join source_attributes
        on source_attributes.source = resolved.source
),

{#- e-mails and phones come normalized from the identity observations, only those the identity
    rules kept for the record's own person (not a value dropped as shared by several people) #}
identifier_values as (
    select
        records.person_id,
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
    select * from record_values
    union all
    select * from identifier_values
),

final as (
    select
        person_id,
        attribute,
        attribute_value,
        source,
        {#- a name typed all in lower or upper case loses to a well-cased one (see
            int_profile_values_ranked) #}
        coalesce(
            attribute not in ('first_name', 'last_name')
            or (
                attribute_value <> lower(attribute_value)
                and attribute_value <> upper(attribute_value)
            ),
            false
        ) as is_well_formed,
        record_key,
        observed_at
    from unioned
    where nullif(trim(attribute_value), '') is not null
)

select * from final
