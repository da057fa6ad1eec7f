with

contacts as (
    select * from {{ source('crm', 'crm_contacts') }}
),

country_aliases as (
    select * from {{ ref('country_aliases') }}
),

typed as (
    select
        nullif(trim(contacts.record_id), '') as contact_id,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        {{ klant.normalize_email('email') }} as email,
        nullif(trim(phone_number), '') as phone_number,
        {{ klant.normalize_phone('phone_number', 'country_aliases.calling_code') }} as phone_e164,
        nullif(trim(mobile_phone_number), '') as mobile_phone_number,
        {{ klant.normalize_phone('mobile_phone_number', 'country_aliases.calling_code') }}
            as mobile_phone_e164,
        nullif(trim(company_name), '') as company_name,
        nullif(trim(job_title), '') as job_title,
        nullif(trim(street_address), '') as street_address,
        nullif(trim(city), '') as city,
        nullif(trim(postal_code), '') as postal_code,
        nullif(trim(country_region), '') as country_region,
        country_aliases.country_code,
        {{ klant.parse_timestamp('create_date', 'hubspot') }} as created_at,
        {{ klant.parse_timestamp('last_modified_date', 'hubspot') }} as last_modified_at,
        nullif(trim(lifecycle_stage), '') as lifecycle_stage,
        nullif(trim(lead_status), '') as lead_status,
        case lower(trim(marketing_email_opt_in))
            when 'true' then true
            when 'false' then false
        end as is_marketing_email_opted_in,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from contacts
    {#- the country as typed ("Nederland", "UK") to ISO-2, and its calling code for phones #}
    left join country_aliases
        on lower(country_aliases.alias) = lower(trim(contacts.country_region))
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
        {{ klant.is_valid_email('email') }} as is_email_valid,
        phone_number,
        phone_e164,
        {{ klant.is_valid_phone('phone_e164') }} as is_phone_valid,
        mobile_phone_number,
        mobile_phone_e164,
        {{ klant.is_valid_phone('mobile_phone_e164') }} as is_mobile_phone_valid,
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
