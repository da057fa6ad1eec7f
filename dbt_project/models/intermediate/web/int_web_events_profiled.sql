with

events as (
    select * from {{ ref('stg_web__events') }}
),

records as (
    select * from {{ ref('int_records_resolved') }}
    where source = 'web'
),

resolved_events as (
    select
        events.message_id,
        events.anonymous_id,
        events.user_id,
        events.event_at,
        events.event_type,
        events.event_name,
        events.campaign_source,
        events.campaign_medium,
        events.campaign_name,
        events.device_type,
        events.consent_advertising,
        events.consent_personalization,
        records.person_id
    from events
    left join records
        on records.record_key = events.message_id
),

{#- an anonymous_id is a visitor only when none of its events resolved to a person: with one
    resolved event it is a device of that person, whose unresolved events (say, past the
    identity limits) belong to no one rather than to a visitor who does not exist. A visitor
    unseen for klant__visitor_retention_days has expired: it is no one's profile any more, and
    the privacy step deletes its events from raw at the next run (klant.privacy.retention) #}
visitor_devices as (
    select anonymous_id
    from resolved_events
    where anonymous_id is not null
    group by anonymous_id
    having
        count(person_id) = 0
        and max(event_at) >= {{ dbt.dateadd(
            'day', -(var('klant__visitor_retention_days') | int), klant.as_of()
        ) }}
),

final as (
    select
        resolved_events.*,
        coalesce(resolved_events.anonymous_id, 'user:' || resolved_events.user_id) as device_key,
        case
            when resolved_events.person_id is null then 'kv_' || visitor_devices.anonymous_id
        end as visitor_id,
        coalesce(
            resolved_events.person_id, 'kv_' || visitor_devices.anonymous_id
        ) as profile_id
    from resolved_events
    left join visitor_devices
        on visitor_devices.anonymous_id = resolved_events.anonymous_id
    {#- an event without a readable time cannot be placed in a visit nor ordered among touches #}
    where
        resolved_events.event_at is not null
        and (resolved_events.person_id is not null or visitor_devices.anonymous_id is not null)
)

select * from final
