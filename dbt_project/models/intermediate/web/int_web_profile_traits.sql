{#- the order of a profile's events: by time, ties by messageId so every warehouse agrees -#}
{%- set event_order = ['event_at', klant.collate_binary('message_id')] -%}

with

{#- only the columns the traits read: a CTE read twice is computed once, whole #}
events as (
    select
        message_id,
        profile_id,
        person_id,
        visitor_id,
        anonymous_id,
        event_at,
        event_type,
        event_name,
        campaign_source,
        campaign_medium,
        campaign_name,
        device_type,
        consent_advertising,
        consent_personalization
    from {{ ref('int_web_events_profiled') }}
),

sessions as (
    select * from {{ ref('int_web_sessions') }}
),

{#- a profile is a person or an anonymous visitor, as int_web_events_profiled decides; every
    trait below is computed the same way for both, in one pass over the events. A touch is an
    event that carries UTM parameters (a landing from a campaign); the first touch is the
    earliest, the last touch the latest, ties in time by messageId. Every event carries the
    cookie banner's state at that moment, so the latest event that carries a category's
    preference holds the current choice; events without consent (banner never answered) say
    nothing and do not reset it. #}
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
        max(case when event_name = 'Product Added' then event_at end) as last_cart_add_at,
        {%- for column in ['campaign_source', 'campaign_medium', 'campaign_name'] %}
        {{ klant.value_at_extreme(
            column, event_order, where='campaign_source is not null'
        ) }} as first_touch_{{ column }},
        {{ klant.value_at_extreme(
            column, event_order, descending=true, where='campaign_source is not null'
        ) }} as last_touch_{{ column }},
        {%- endfor %}
        {%- for purpose in ['advertising', 'personalization'] %}
        {{ klant.value_at_extreme(
            'consent_' ~ purpose, event_order, descending=true,
            where='consent_' ~ purpose ~ ' is not null'
        ) }} as consent_{{ purpose }},
        max(case when consent_{{ purpose }} is not null then event_at end)
            as consent_{{ purpose }}_updated_at{{ ',' if not loop.last }}
        {%- endfor %}
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
        activity.first_touch_campaign_source as first_touch_utm_source,
        activity.first_touch_campaign_medium as first_touch_utm_medium,
        activity.first_touch_campaign_name as first_touch_utm_campaign,
        activity.last_touch_campaign_source as last_touch_utm_source,
        activity.last_touch_campaign_medium as last_touch_utm_medium,
        activity.last_touch_campaign_name as last_touch_utm_campaign,
        preferred_devices.device_type as preferred_device,
        activity.consent_advertising,
        activity.consent_advertising_updated_at,
        activity.consent_personalization,
        activity.consent_personalization_updated_at
    from activity
    left join session_counts
        on session_counts.profile_id = activity.profile_id
    left join preferred_devices
        on
            preferred_devices.profile_id = activity.profile_id
            and preferred_devices.device_rank = 1
)

select * from final
