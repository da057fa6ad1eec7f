with

memberships as (
    select * from {{ ref('stg_dmp__audience_memberships') }}
),

registry as (
    select * from {{ ref('int_identifiers_registered') }}
),

identifiers as (
    select * from {{ ref('int_identifiers_clustered') }}
    where is_person
),

profiles as (
    select * from {{ ref('int_web_profile_traits') }}
),

{#- a cookie is a device of the person holding the identifier anonymous_id:<cookie> #}
person_cookies as (
    select
        identifiers.identifier_value as cookie_id,
        registry.person_id
    from identifiers
    inner join registry
        on registry.identifier_key = identifiers.identifier_key
    where identifiers.identifier_type = 'anonymous_id'
),

{#- a hashed e-mail is the person's whose normalized e-mail hashes to it: the DMP hashes the
    trimmed, lowercased address, which is how the identity graph normalizes it #}
person_emails as (
    select
        {{ klant.hash_sha256('identifiers.identifier_value') }} as hashed_email,
        registry.person_id
    from identifiers
    inner join registry
        on registry.identifier_key = identifiers.identifier_key
    where identifiers.identifier_type = 'email'
),

{#- an anonymous visitor, as dim_visitors has them; a cookie of no person and no visitor (never
    seen, or a shared device identity dropped) stays unmatched #}
visitor_cookies as (
    select
        anonymous_id as cookie_id,
        visitor_id
    from profiles
    where visitor_id is not null
),

resolved as (
    select
        memberships.*,
        coalesce(person_cookies.person_id, person_emails.person_id) as person_id,
        case
            when person_cookies.person_id is null and person_emails.person_id is null
                then visitor_cookies.visitor_id
        end as visitor_id,
        case
            when person_cookies.person_id is not null then 'cookie'
            when person_emails.person_id is not null then 'hashed_email'
            when visitor_cookies.visitor_id is not null then 'cookie'
        end as matched_by
    from memberships
    left join person_cookies
        on person_cookies.cookie_id = memberships.cookie_id
    left join person_emails
        on person_emails.hashed_email = memberships.hashed_email
    left join visitor_cookies
        on visitor_cookies.cookie_id = memberships.cookie_id
),

final as (
    select
        membership_key,
        coalesce(person_id, visitor_id) as profile_id,
        person_id,
        visitor_id,
        matched_by,
        cookie_id,
        hashed_email,
        audience_code,
        audience_name,
        provider,
        fetched_at,
        expires_at,
        _source_file,
        _line_number,
        _loaded_at
    from resolved
)

select * from final
