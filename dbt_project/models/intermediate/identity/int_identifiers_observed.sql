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
        phone_e164 as identifier_value,
        is_phone_valid as is_valid,
        coalesce(last_modified_at, created_at) as observed_at
    from contacts
    where phone_e164 is not null
    union all
    select
        'crm' as source,
        contact_id as record_key,
        'phone' as identifier_type,
        mobile_phone_e164 as identifier_value,
        is_mobile_phone_valid as is_valid,
        coalesce(last_modified_at, created_at) as observed_at
    from contacts
    where mobile_phone_e164 is not null
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
        billing_phone_e164 as identifier_value,
        is_billing_phone_valid as is_valid,
        created_at as observed_at
    from orders
    where billing_phone_e164 is not null
    union all
    select
        'commerce' as source,
        order_name as record_key,
        'phone' as identifier_type,
        phone_e164 as identifier_value,
        is_phone_valid as is_valid,
        created_at as observed_at
    from orders
    where phone_e164 is not null
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
    where property_email is not null
    union all
    select
        'web' as source,
        message_id as record_key,
        'phone' as identifier_type,
        trait_phone_e164 as identifier_value,
        is_trait_phone_valid as is_valid,
        event_at as observed_at
    from events
    where trait_phone_e164 is not null
),

observations as (
    {#- distinct: a record can carry the same identifier twice (trait and property email) #}
    select * from crm_observations
    union
    select * from commerce_observations
    union
    select * from web_observations
),

{#- blocklist values are normalized like the identifiers they are compared with; dbt's seed
    loader reads the text "null" as NULL on some adapters, so a missing value is that text #}
blocklist_entries as (
    select
        identifier_type,
        match_type,
        reason,
        coalesce(value, 'null') as value
    from blocklist
),

blocklist_normalized as (
    select
        identifier_type,
        match_type,
        reason,
        case
            when match_type = 'prefix' then lower(trim(value))
            when identifier_type = 'email' then {{ klant.normalize_email('value') }}
            when identifier_type = 'phone' then {{ klant.normalize_phone('value') }}
            else lower(trim(value))
        end as value
    from blocklist_entries
),

blocked_identifiers as (
    select
        distinct_identifiers.identifier_type,
        distinct_identifiers.identifier_value,
        min(blocklist_normalized.reason) as blocked_reason
    from (
        select distinct identifier_type, identifier_value from observations
    ) as distinct_identifiers
    inner join blocklist_normalized
        on
            blocklist_normalized.identifier_type = distinct_identifiers.identifier_type
            and (
                (
                    blocklist_normalized.match_type = 'exact'
                    and lower(distinct_identifiers.identifier_value) = blocklist_normalized.value
                )
                or (
                    blocklist_normalized.match_type = 'prefix'
                    and left(lower(distinct_identifiers.identifier_value), length(blocklist_normalized.value))
                    = blocklist_normalized.value
                )
            )
    group by
        distinct_identifiers.identifier_type,
        distinct_identifiers.identifier_value
),

flagged as (
    select
        observations.*,
        blocked_identifiers.blocked_reason is not null as is_blocked,
        blocked_identifiers.blocked_reason
    from observations
    left join blocked_identifiers
        on
            blocked_identifiers.identifier_type = observations.identifier_type
            and blocked_identifiers.identifier_value = observations.identifier_value
),

{#- A device (anonymous_id) seen with more than one distinct user_id, or more than one distinct
    email, is shared (a family tablet, a shop-floor computer): it must not link those people.
    Read from the events themselves (an event carries its device and its known ids), which
    avoids a self-join of the observations. #}
device_identities as (
    select
        anonymous_id,
        'user_id' as identifier_type,
        user_id as identifier_value
    from events
    where anonymous_id is not null and user_id is not null
    union
    select
        anonymous_id,
        'email' as identifier_type,
        trait_email as identifier_value
    from events
    where anonymous_id is not null and is_trait_email_valid
    union
    select
        anonymous_id,
        'email' as identifier_type,
        property_email as identifier_value
    from events
    where anonymous_id is not null and is_property_email_valid
),

shared_devices as (
    select device_identities.anonymous_id
    from device_identities
    left join blocked_identifiers
        on
            blocked_identifiers.identifier_type = device_identities.identifier_type
            and blocked_identifiers.identifier_value = device_identities.identifier_value
    where blocked_identifiers.identifier_value is null
    group by device_identities.anonymous_id
    having
        count(distinct case when device_identities.identifier_type = 'user_id' then device_identities.identifier_value end) > 1
        or count(distinct case when device_identities.identifier_type = 'email' then device_identities.identifier_value end) > 1
),

final as (
    select
        flagged.source,
        flagged.record_key,
        flagged.identifier_type,
        flagged.identifier_value,
        flagged.identifier_type || ':' || flagged.identifier_value as identifier_key,
        flagged.is_valid,
        flagged.is_blocked,
        flagged.blocked_reason,
        shared_devices.anonymous_id is not null as is_shared_device,
        (
            flagged.is_valid
            and not flagged.is_blocked
            and shared_devices.anonymous_id is null
        ) as is_linkable,
        flagged.observed_at
    from flagged
    left join shared_devices
        on
            flagged.identifier_type = 'anonymous_id'
            and shared_devices.anonymous_id = flagged.identifier_value
)

select * from final
