with

events as (
    select * from {{ ref('stg_web__events') }}
),

sessions as (
    select * from {{ ref('int_web_sessions') }}
    where visitor_id is not null
),

{#- who is a visitor is decided once, in int_web_sessions: an anonymous_id none of whose
    events resolved to a person #}
session_counts as (
    select
        visitor_id,
        anonymous_id,
        count(*) as session_count
    from sessions
    group by visitor_id, anonymous_id
),

visitor_events as (
    select
        session_counts.visitor_id,
        events.message_id,
        events.event_at,
        events.event_type,
        events.event_name,
        events.campaign_source,
        events.campaign_medium,
        events.campaign_name,
        events.device_type,
        events.consent_advertising,
        events.consent_personalization
    from events
    inner join session_counts
        on session_counts.anonymous_id = events.anonymous_id
    where events.event_at is not null
),

activity as (
    select
        visitor_id,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        sum(case when event_type = 'page' then 1 else 0 end) as page_view_count,
        sum(case when event_name = 'Product Viewed' then 1 else 0 end) as product_view_count,
        sum(case when event_name = 'Product Added' then 1 else 0 end) as cart_add_count,
        max(case when event_name = 'Product Added' then event_at end) as last_cart_add_at
    from visitor_events
    group by visitor_id
),

{#- first and last touch as for persons (int_person_web_traits): the earliest and the latest
    event that carries UTM parameters, ties in time by messageId #}
touches as (
    select
        visitor_id,
        campaign_source,
        campaign_medium,
        campaign_name,
        row_number() over (
            partition by visitor_id
            order by event_at, {{ klant.collate_binary('message_id') }}
        ) as first_rank,
        row_number() over (
            partition by visitor_id
            order by event_at desc, {{ klant.collate_binary('message_id') }} desc
        ) as last_rank
    from visitor_events
    where campaign_source is not null
),

first_touches as (
    select * from touches
    where first_rank = 1
),

last_touches as (
    select * from touches
    where last_rank = 1
),

device_usage as (
    select
        visitor_id,
        device_type,
        count(*) as event_count,
        max(event_at) as last_used_at
    from visitor_events
    where device_type is not null
    group by visitor_id, device_type
),

preferred_devices as (
    select
        visitor_id,
        device_type,
        row_number() over (
            partition by visitor_id
            order by event_count desc, last_used_at desc, device_type
        ) as device_rank
    from device_usage
),

{#- every event carries the banner's state at that moment, so the latest event that carries a
    category's preference holds the visitor's current choice; events without consent (banner
    never answered) say nothing and do not reset it #}
advertising_consents as (
    select
        visitor_id,
        consent_advertising,
        event_at,
        row_number() over (
            partition by visitor_id
            order by event_at desc, {{ klant.collate_binary('message_id') }} desc
        ) as consent_rank
    from visitor_events
    where consent_advertising is not null
),

personalization_consents as (
    select
        visitor_id,
        consent_personalization,
        event_at,
        row_number() over (
            partition by visitor_id
            order by event_at desc, {{ klant.collate_binary('message_id') }} desc
        ) as consent_rank
    from visitor_events
    where consent_personalization is not null
),

final as (
    select
        session_counts.visitor_id,
        session_counts.anonymous_id,
        activity.first_seen_at,
        activity.last_seen_at,
        cast(session_counts.session_count as integer) as session_count,
        cast(activity.page_view_count as integer) as page_view_count,
        cast(activity.product_view_count as integer) as product_view_count,
        cast(activity.cart_add_count as integer) as cart_add_count,
        activity.last_cart_add_at,
        first_touches.campaign_source as first_touch_utm_source,
        first_touches.campaign_medium as first_touch_utm_medium,
        first_touches.campaign_name as first_touch_utm_campaign,
        last_touches.campaign_source as last_touch_utm_source,
        last_touches.campaign_medium as last_touch_utm_medium,
        last_touches.campaign_name as last_touch_utm_campaign,
        preferred_devices.device_type as preferred_device,
        advertising_consents.consent_advertising,
        advertising_consents.event_at as consent_advertising_updated_at,
        personalization_consents.consent_personalization,
        personalization_consents.event_at as consent_personalization_updated_at
    from session_counts
    inner join activity
        on activity.visitor_id = session_counts.visitor_id
    left join first_touches
        on first_touches.visitor_id = session_counts.visitor_id
    left join last_touches
        on last_touches.visitor_id = session_counts.visitor_id
    left join preferred_devices
        on
            preferred_devices.visitor_id = session_counts.visitor_id
            and preferred_devices.device_rank = 1
    left join advertising_consents
        on
            advertising_consents.visitor_id = session_counts.visitor_id
            and advertising_consents.consent_rank = 1
    left join personalization_consents
        on
            personalization_consents.visitor_id = session_counts.visitor_id
            and personalization_consents.consent_rank = 1
)

select * from final
