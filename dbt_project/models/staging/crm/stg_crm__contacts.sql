{#- a table rather than a view: the person-level models and tests read it many times. Not
    incremental: HubSpot exports every contact again each time, so each load changes them all. #}
{{ config(materialized='table') }}

with

contacts as (
    select * from {{ source('crm', 'crm_contacts') }}
),

country_aliases as (
    select * from {{ ref('country_aliases') }}
),

{#- one import per lookup, each read once: DuckDB materializes a CTE that is read twice, and
    then no longer prunes the columns a query does not use (several times slower) #}
emails as (
    select * from {{ source('normalization', 'identifier_dictionary') }}
    where identifier_type = 'email' and region = ''
),

phones as (
    select * from {{ source('normalization', 'identifier_dictionary') }}
    where identifier_type = 'phone'
),

mobile_phones as (
    select * from {{ source('normalization', 'identifier_dictionary') }}
    where identifier_type = 'phone'
),

country_regions as (
    {{ klant.country_regions('country_aliases') }}
),

typed as (
    select
        nullif(trim(contacts.record_id), '') as contact_id,
        nullif(trim(contacts.first_name), '') as first_name,
        nullif(trim(contacts.last_name), '') as last_name,
        emails.normalized_value as email,
        coalesce(emails.is_valid, false) as is_email_valid,
        nullif(trim(contacts.phone_number), '') as phone_number,
        phones.normalized_value as phone_e164,
        coalesce(phones.is_valid, false) as is_phone_valid,
        nullif(trim(contacts.mobile_phone_number), '') as mobile_phone_number,
        mobile_phones.normalized_value as mobile_phone_e164,
        coalesce(mobile_phones.is_valid, false) as is_mobile_phone_valid,
        nullif(trim(contacts.company_name), '') as company_name,
        nullif(trim(contacts.job_title), '') as job_title,
        nullif(trim(contacts.street_address), '') as street_address,
        nullif(trim(contacts.city), '') as city,
        nullif(trim(contacts.postal_code), '') as postal_code,
        nullif(trim(contacts.country_region), '') as country_region,
        country_regions.country_code,
        {{ klant.parse_timestamp('contacts.create_date', 'hubspot') }} as created_at,
        {{ klant.parse_timestamp('contacts.last_modified_date', 'hubspot') }}
            as last_modified_at,
        nullif(trim(contacts.lifecycle_stage), '') as lifecycle_stage,
        nullif(trim(contacts.lead_status), '') as lead_status,
        case lower(trim(contacts.marketing_email_opt_in))
            when 'true' then true
            when 'false' then false
        end as is_marketing_email_opted_in,
        contacts._load_id,
        contacts._source_file,
        contacts._line_number,
        contacts._loaded_at
    from contacts
    left join country_regions
        on country_regions.alias_key = lower(trim(contacts.country_region))
    {#- normalized once per distinct raw text in Python; the raw text is the key, untrimmed #}
    left join emails
        on
            emails.raw_value = contacts.email
            and emails.region = ''
    left join phones
        on
            phones.raw_value = contacts.phone_number
            and phones.region = coalesce(country_regions.country_code, '')
    left join mobile_phones
        on
            mobile_phones.raw_value = contacts.mobile_phone_number
            and mobile_phones.region = coalesce(country_regions.country_code, '')
),

ranked as (
    select
        *,
        {#- the newest version of a contact wins; between identical versions, the latest load #}
        row_number() over (
            partition by contact_id
            order by
                last_modified_at desc nulls last,
                _loaded_at desc,
                _load_id desc,
                _source_file desc,
                _line_number desc
        ) as version_rank,
        count(*) over (partition by contact_id) as raw_row_count
    from typed
    where contact_id is not null
),

final as (
    select
        contact_id,
        first_name,
        last_name,
        email,
        is_email_valid,
        phone_number,
        phone_e164,
        is_phone_valid,
        mobile_phone_number,
        mobile_phone_e164,
        is_mobile_phone_valid,
        company_name,
        job_title,
        street_address,
        city,
        postal_code,
        country_region,
        country_code,
        created_at,
        last_modified_at,
        lifecycle_stage,
        lead_status,
        is_marketing_email_opted_in,
        raw_row_count,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from ranked
    where version_rank = 1
)

select * from final
