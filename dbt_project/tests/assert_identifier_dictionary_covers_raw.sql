{#- Every e-mail and phone typed in raw has its row in the identifier dictionary. Staging joins
    the dictionary, so a value it misses (the normalization asset did not run after a load)
    would silently read as "no e-mail": this test fails the build instead. #}
with

dictionary as (
    select identifier_type, raw_value from {{ source('normalization', 'identifier_dictionary') }}
),

raw_values as (
    select 'email' as identifier_type, email as raw_value
    from {{ source('crm', 'crm_contacts') }}
    union
    select 'phone', phone_number from {{ source('crm', 'crm_contacts') }}
    union
    select 'phone', mobile_phone_number from {{ source('crm', 'crm_contacts') }}
    union
    select 'email', email from {{ source('commerce', 'shopify_orders') }}
    union
    select 'phone', billing_phone from {{ source('commerce', 'shopify_orders') }}
    union
    select 'email', {{ klant.json_text('traits', ['email']) }} from {{ source('web', 'web_events') }}
    union
    select 'phone', {{ klant.json_text('traits', ['phone']) }} from {{ source('web', 'web_events') }}
),

missing as (
    select raw_values.identifier_type, raw_values.raw_value
    from raw_values
    left join dictionary
        on
            dictionary.identifier_type = raw_values.identifier_type
            and dictionary.raw_value = raw_values.raw_value
    where
        raw_values.raw_value is not null
        and trim(raw_values.raw_value) <> ''
        and dictionary.raw_value is null
)

select * from missing
