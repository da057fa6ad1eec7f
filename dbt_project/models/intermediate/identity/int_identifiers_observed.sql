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

blocklist as (
    select * from {{ ref('identity_blocklist') }}
),

crm_observations as (
    select
        'crm' as source,
        contact_id as record_key,
        'crm_record_id' as identifier_type,
        contact_id as identifier_value,
        true as is_valid,
        coalesce(last_modified_at, created_at) as observed_at
    from contacts
    union all
    select
        'crm' as source,
        contact_id as record_key,
        'email' as identifier_type,
        email as identifier_value,
        is_email_valid as is_valid,
        coalesce(last_modified_at, created_at) as observed_at
    from contacts
    where email is not null
    union all
    select
        'crm' as source,
        contact_id as record_key,
        'phone' as identifier_type,
        coalesce(phone_e164, phone_number) as identifier_value,
        is_phone_valid as is_valid,
        coalesce(last_modified_at, created_at) as observed_at
    from contacts
    where coalesce(phone_e164, phone_number) is not null
    union all
    select
        'crm' as source,
        contact_id as record_key,
        'phone' as identifier_type,
        coalesce(mobile_phone_e164, mobile_phone_number) as identifier_value,
        is_mobile_phone_valid as is_valid,
        coalesce(last_modified_at, created_at) as observed_at
    from contacts
    where
        coalesce(mobile_phone_e164, mobile_phone_number) is not null
        and not (
            coalesce(mobile_phone_e164, mobile_phone_number)
            is not distinct from coalesce(phone_e164, phone_number)
            and is_mobile_phone_valid is not distinct from is_phone_valid
        )
),

commerce_observations as (
    select
        'commerce' as source,
        order_name as record_key,
        'email' as identifier_type,
        email as identifier_value,
        is_email_valid as is_valid,
        created_at as observed_at
    from orders
    where email is not null
    union all
    select
        'commerce' as source,
        order_name as record_key,
        'phone' as identifier_type,
        coalesce(billing_phone_e164, billing_phone) as identifier_value,
        is_billing_phone_valid as is_valid,
        created_at as observed_at
    from orders
    where coalesce(billing_phone_e164, billing_phone) is not null
    union all
    select
        'commerce' as source,
        order_name as record_key,
        'phone' as identifier_type,
        coalesce(phone_e164, phone) as identifier_value,
        is_phone_valid as is_valid,
        created_at as observed_at
    from orders
    where
        coalesce(phone_e164, phone) is not null
        and not (
            coalesce(phone_e164, phone)
            is not distinct from coalesce(billing_phone_e164, billing_phone)
            and is_phone_valid is not distinct from is_billing_phone_valid
        )
),

web_observations as (
    select
        'web' as source,
        message_id as record_key,
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value,
        true as is_valid,
        event_at as observed_at
    from events
    where anonymous_id is not null
    union all
    select
        'web' as source,
        message_id as record_key,
        'user_id' as identifier_type,
        user_id as identifier_value,
        true as is_valid,
        event_at as observed_at
    from events
    where user_id is not null
    union all
    select
        'web' as source,
        message_id as record_key,
        'email' as identifier_type,
        trait_email as identifier_value,
        is_trait_email_valid as is_valid,
        event_at as observed_at
    from events
    where trait_email is not null
    union all
    select
        'web' as source,
        message_id as record_key,
        'email' as identifier_type,
        property_email as identifier_value,
        is_property_email_valid as is_valid,
        event_at as observed_at
    from events
    where
        property_email is not null
        and not (
            property_email is not distinct from trait_email
            and is_property_email_valid is not distinct from is_trait_email_valid
        )
    union all
    select
        'web' as source,
        message_id as record_key,
        'phone' as identifier_type,
        coalesce(trait_phone_e164, trait_phone) as identifier_value,
        is_trait_phone_valid as is_valid,
        event_at as observed_at
    from events
    where coalesce(trait_phone_e164, trait_phone) is not null
),

{#- one row per record and identifier: the record keys are unique in staging, and where a
    record can carry the same identifier twice (two phones of a contact or an order, trait and
    property e-mail of an event) the second column only adds a row the first did not give, so
    no distinct over all rows is needed #}
observations as (
    select * from crm_observations
    union all
    select * from commerce_observations
    union all
    select * from web_observations
),

{#- dbt's seed loader reads the text "null" as NULL on some adapters, so a missing value is
    that text. Entries are compared case-insensitively; an exact entry also in the form the SQL
    rules give it (normalize_email, normalize_phone), so "0000000000" may be written as typed. #}
blocklist_entries as (
    select
        identifier_type,
        match_type,
        reason,
        lower(trim(coalesce(value, 'null'))) as value
    from blocklist
),

exact_entries as (
    select identifier_type, value, reason, match_type
    from blocklist_entries
    where match_type = 'exact'
    union
    select
        identifier_type,
        case
            when identifier_type = 'email' then {{ klant.normalize_email('value') }}
            when identifier_type = 'phone' then {{ klant.normalize_phone('value') }}
        end as value,
        reason,
        match_type
    from blocklist_entries
    where match_type = 'exact' and identifier_type in ('email', 'phone')
),

pattern_entries as (
    select identifier_type, value, reason, match_type
    from blocklist_entries
    where match_type <> 'exact'
),

distinct_identifiers as (
    select
        identifier_type,
        identifier_value,
        lower(identifier_value) as value
    from (
        select distinct
            identifier_type,
            identifier_value
        from observations
    ) as distinct_values
),

{#- exact entries by an equi-join, patterns (prefix, suffix, contains: a handful) by a scan #}
blocklist_matches as (
    select
        distinct_identifiers.identifier_type,
        distinct_identifiers.identifier_value,
        exact_entries.match_type,
        exact_entries.value as entry,
        exact_entries.reason
    from distinct_identifiers
    inner join exact_entries
        on
            exact_entries.identifier_type = distinct_identifiers.identifier_type
            and exact_entries.value = distinct_identifiers.value
    union
    select
        distinct_identifiers.identifier_type,
        distinct_identifiers.identifier_value,
        pattern_entries.match_type,
        pattern_entries.value as entry,
        pattern_entries.reason
    from distinct_identifiers
    inner join pattern_entries
        on
            pattern_entries.identifier_type = distinct_identifiers.identifier_type
            and {{ klant.text_matches(
                'distinct_identifiers.value', 'pattern_entries.value', 'pattern_entries.match_type'
            ) }}
),

{#- one verdict per value: the first entry by match type (exact before patterns), then entry #}
blocked_identifiers as (
    select
        identifier_type,
        identifier_value,
        reason || ' (blocklist ' || match_type || ' ''' || entry || ''')' as blocked_reason
    from (
        select
            *,
            row_number() over (
                partition by identifier_type, identifier_value
                order by
                    case match_type when 'exact' then 0 else 1 end,
                    {{ klant.collate_binary('match_type') }},
                    {{ klant.collate_binary('entry') }}
            ) as entry_rank
        from blocklist_matches
    ) as ranked
    where entry_rank = 1
),

final as (
    select
        observations.source,
        observations.record_key,
        observations.identifier_type,
        observations.identifier_value,
        observations.identifier_type || ':' || observations.identifier_value as identifier_key,
        observations.is_valid,
        blocked_identifiers.blocked_reason is not null as is_blocked,
        blocked_identifiers.blocked_reason,
        observations.is_valid and blocked_identifiers.blocked_reason is null as is_linkable,
        observations.observed_at
    from observations
    left join blocked_identifiers
        on
            blocked_identifiers.identifier_type = observations.identifier_type
            and blocked_identifiers.identifier_value = observations.identifier_value
)

select * from final
