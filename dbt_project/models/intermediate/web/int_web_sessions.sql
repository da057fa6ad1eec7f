{#- a visit ends after this long without an event (Google Analytics' and Segment's default) #}
{%- set session_timeout_minutes = var("klant__session_timeout_minutes") -%}

with

profiled_events as (
    select * from {{ ref('int_web_events_profiled') }}
),

{#- one device of one profile is one stream of visits: a shared tablet gives each partner
    their own sessions. Ties in time are ordered by messageId so every warehouse agrees. #}
gaps as (
    select
        *,
        lag(event_at) over (
            partition by profile_id, device_key
            order by event_at, {{ klant.collate_binary('message_id') }}
        ) as previous_event_at
    from profiled_events
),

numbered as (
    select
        *,
        sum(
            case
                when previous_event_at is null then 1
                when
                    event_at
                    > {{ dbt.dateadd('minute', session_timeout_minutes, 'previous_event_at') }}
                    then 1
                else 0
            end
        ) over (
            partition by profile_id, device_key
            order by event_at, {{ klant.collate_binary('message_id') }}
            rows between unbounded preceding and current row
        ) as session_number
    from gaps
),

ranked as (
    select
        *,
        row_number() over (
            partition by profile_id, device_key, session_number
            order by event_at, {{ klant.collate_binary('message_id') }}
        ) as event_rank,
        row_number() over (
            partition by profile_id, device_key, session_number
            order by
                case when campaign_source is null then 1 else 0 end,
                event_at,
                {{ klant.collate_binary('message_id') }}
        ) as campaign_rank
    from numbered
),

session_totals as (
    select
        profile_id,
        device_key,
        session_number,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as event_count,
        sum(case when event_type = 'page' then 1 else 0 end) as page_view_count,
        sum(case when event_name = 'Product Viewed' then 1 else 0 end) as product_view_count,
        sum(case when event_name = 'Product Added' then 1 else 0 end) as cart_add_count
    from ranked
    group by profile_id, device_key, session_number
),

first_events as (
    select * from ranked
    where event_rank = 1
),

campaign_events as (
    select * from ranked
    where campaign_rank = 1 and campaign_source is not null
),

final as (
    select
        first_events.message_id as session_id,
        first_events.person_id,
        first_events.visitor_id,
        first_events.profile_id,
        first_events.device_key,
        first_events.anonymous_id,
        first_events.device_type,
        cast(session_totals.session_number as integer) as session_number,
        session_totals.started_at,
        session_totals.ended_at,
        cast(session_totals.event_count as integer) as event_count,
        cast(session_totals.page_view_count as integer) as page_view_count,
        cast(session_totals.product_view_count as integer) as product_view_count,
        cast(session_totals.cart_add_count as integer) as cart_add_count,
        campaign_events.campaign_source as utm_source,
        campaign_events.campaign_medium as utm_medium,
        campaign_events.campaign_name as utm_campaign
    from session_totals
    inner join first_events
        on
            first_events.profile_id = session_totals.profile_id
            and first_events.device_key = session_totals.device_key
            and first_events.session_number = session_totals.session_number
    left join campaign_events
        on
            campaign_events.profile_id = session_totals.profile_id
            and campaign_events.device_key = session_totals.device_key
            and campaign_events.session_number = session_totals.session_number
)

select * from final
