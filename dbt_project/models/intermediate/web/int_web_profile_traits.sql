with

events as (
    select * from {{ ref('int_web_events_profiled') }}
),

sessions as (
    select * from {{ ref('int_web_sessions') }}
),

{#- a profile is a person or an anonymous visitor, as int_web_events_profiled decides; every
    trait below is computed the same way for both #}
activity as (
    select
        profile_id,
        person_id,
        visitor_id,
        {#- a visitor's events all come from its one anonymous_id; a person may have several #}
        max(case when visitor_id is not null then anonymous_id end) as anonymous_id,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        sum(case when event_type = 'page' then 1 else 0 end) as page_view_count,
        sum(case when event_name = 'Product Viewed' then 1 else 0 end) as product_view_count,
        sum(case when event_name = 'Product Added' then 1 else 0 end) as cart_add_count,
        max(case when event_name = 'Product Added' then event_at end) as last_cart_add_at
    from events
    group by profile_id, person_id, visitor_id
),

session_counts as (
    select
        profile_id,
        count(*) as session_count
    from sessions
    group by profile_id
),

{#- a touch is an event that carries UTM parameters (a landing from a campaign); the first
    touch is the earliest, the last touch the latest, ties in time by messageId #}
touches as (
    select
        profile_id,
        campaign_source,
        campaign_medium,
        campaign_name,
        row_number() over (
            partition by profile_id
            order by event_at, {{ klant.collate_binary('message_id') }}
        ) as first_rank,
        row_number() over (
            partition by profile_id
            order by event_at desc, {{ klant.collate_binary('message_id') }} desc
        ) as last_rank
    from events
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
        profile_id,
        device_type,
        count(*) as event_count,
        max(event_at) as last_used_at
    from events
    where device_type is not null
    group by profile_id, device_type
),

{#- the device type with the most events; on a tie the one used most recently, since that
    is where the profile is now, then alphabetically so every warehouse agrees #}
preferred_devices as (
    select
        profile_id,
        device_type,
        row_number() over (
            partition by profile_id
            order by event_count desc, last_used_at desc, device_type
        ) as device_rank
    from device_usage
),

{#- every event carries the cookie banner's state at that moment, so the latest event that
    carries a category's preference holds the current choice; events without consent (banner
    never answered) say nothing and do not reset it #}
advertising_consents as (
    select
        profile_id,
        consent_advertising,
        event_at,
        row_number() over (
            partition by profile_id
            order by event_at desc, {{ klant.collate_binary('message_id') }} desc
        ) as consent_rank
    from events
    where consent_advertising is not null
),

personalization_consents as (
    select
        profile_id,
        consent_personalization,
        event_at,
        row_number() over (
            partition by profile_id
            order by event_at desc, {{ klant.collate_binary('message_id') }} desc
        ) as consent_rank
    from events
    where consent_personalization is not null
),

final as (
    select
        activity.profile_id,
        activity.person_id,
        activity.visitor_id,
        activity.anonymous_id,
        activity.first_seen_at,
        activity.last_seen_at,
        cast(coalesce(session_counts.session_count, 0) as integer) as session_count,
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
    from activity
    left join session_counts
        on session_counts.profile_id = activity.profile_id
    left join first_touches
        on first_touches.profile_id = activity.profile_id
    left join last_touches
        on last_touches.profile_id = activity.profile_id
    left join preferred_devices
        on
            preferred_devices.profile_id = activity.profile_id
            and preferred_devices.device_rank = 1
    left join advertising_consents
        on
            advertising_consents.profile_id = activity.profile_id
            and advertising_consents.consent_rank = 1
    left join personalization_consents
        on
            personalization_consents.profile_id = activity.profile_id
            and personalization_consents.consent_rank = 1
)

select * from final
