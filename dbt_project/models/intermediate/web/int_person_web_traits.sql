with

events as (
    select * from {{ ref('stg_web__events') }}
),

records as (
    select * from {{ ref('int_records_resolved') }}
    where source = 'web'
),

sessions as (
    select * from {{ ref('int_web_sessions') }}
    where person_id is not null
),

person_events as (
    select
        records.person_id,
        events.message_id,
        events.event_at,
        events.event_type,
        events.event_name,
        events.campaign_source,
        events.campaign_medium,
        events.campaign_name,
        events.device_type
    from events
    inner join records
        on records.record_key = events.message_id
    where events.event_at is not null
),

activity as (
    select
        person_id,
        min(event_at) as web_first_seen_at,
        max(event_at) as web_last_seen_at,
        sum(case when event_type = 'page' then 1 else 0 end) as page_view_count,
        sum(case when event_name = 'Product Viewed' then 1 else 0 end) as product_view_count,
        sum(case when event_name = 'Product Added' then 1 else 0 end) as cart_add_count,
        max(case when event_name = 'Product Added' then event_at end) as last_cart_add_at
    from person_events
    group by person_id
),

session_counts as (
    select
        person_id,
        count(*) as session_count
    from sessions
    group by person_id
),

{#- a touch is an event that carries UTM parameters (a landing from a campaign); the first
    touch is the earliest, the last touch the latest, ties in time by messageId #}
touches as (
    select
        person_id,
        campaign_source,
        campaign_medium,
        campaign_name,
        row_number() over (
            partition by person_id
            order by event_at, {{ klant.collate_binary('message_id') }}
        ) as first_rank,
        row_number() over (
            partition by person_id
            order by event_at desc, {{ klant.collate_binary('message_id') }} desc
        ) as last_rank
    from person_events
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
        person_id,
        device_type,
        count(*) as event_count,
        max(event_at) as last_used_at
    from person_events
    where device_type is not null
    group by person_id, device_type
),

{#- the device type with the most events; on a tie the one used most recently, since that
    is where the person is now #}
preferred_devices as (
    select
        person_id,
        device_type,
        row_number() over (
            partition by person_id
            order by event_count desc, last_used_at desc, device_type
        ) as device_rank
    from device_usage
),

final as (
    select
        activity.person_id,
        cast(coalesce(session_counts.session_count, 0) as integer) as session_count,
        cast(activity.page_view_count as integer) as page_view_count,
        cast(activity.product_view_count as integer) as product_view_count,
        cast(activity.cart_add_count as integer) as cart_add_count,
        activity.last_cart_add_at,
        activity.web_first_seen_at,
        activity.web_last_seen_at,
        first_touches.campaign_source as first_touch_utm_source,
        first_touches.campaign_medium as first_touch_utm_medium,
        first_touches.campaign_name as first_touch_utm_campaign,
        last_touches.campaign_source as last_touch_utm_source,
        last_touches.campaign_medium as last_touch_utm_medium,
        last_touches.campaign_name as last_touch_utm_campaign,
        preferred_devices.device_type as preferred_device
    from activity
    left join session_counts
        on session_counts.person_id = activity.person_id
    left join first_touches
        on first_touches.person_id = activity.person_id
    left join last_touches
        on last_touches.person_id = activity.person_id
    left join preferred_devices
        on
            preferred_devices.person_id = activity.person_id
            and preferred_devices.device_rank = 1
)

select * from final
