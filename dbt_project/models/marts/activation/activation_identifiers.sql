with

profiles as (
    select * from {{ ref('dim_profiles') }}
),

visitors as (
    select * from {{ ref('dim_visitors') }}
),

{#- e-mails in dim_profiles are already trimmed and lowercased and phones are E.164, the forms
    the platforms hash; Google hashes the phone with its '+', Meta only its digits #}
persons as (
    select
        person_id,
        'person' as profile_type,
        {{ klant.hash_sha256('email') }} as email_sha256,
        {{ klant.hash_sha256('phone') }} as phone_sha256,
        {{ klant.hash_sha256("replace(phone, '+', '')") }} as phone_digits_sha256,
        country,
        consent_email,
        consent_advertising,
        consent_personalization
    from profiles
),

{#- a visitor left no e-mail, so never consented to e-mail either #}
anonymous_visitors as (
    select
        visitor_id as person_id,
        'visitor' as profile_type,
        cast(null as {{ dbt.type_string() }}) as email_sha256,
        cast(null as {{ dbt.type_string() }}) as phone_sha256,
        cast(null as {{ dbt.type_string() }}) as phone_digits_sha256,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_boolean() }}) as consent_email,
        consent_advertising,
        consent_personalization
    from visitors
),

final as (
    select * from persons
    union all
    select * from anonymous_visitors
)

select * from final
