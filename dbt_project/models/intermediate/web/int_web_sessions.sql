{#- Incremental by profile (macros/person_incremental.sql): a run computes again only the visits
    of the profiles whose events changed (a new day's events, merged persons, a purge), every
    profile's when the session timeout or this model's code changed, and leaves the table as a
    full rebuild would. `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'person_incremental': {
        'inputs': 'int_web_events_profiled',
        'key': 'profile_id',
        'columns': [
            'message_id', 'person_id', 'visitor_id', 'device_key', 'anonymous_id', 'device_type',
            'event_at', 'event_type', 'event_name', 'campaign_source', 'campaign_medium',
            'campaign_name',
        ],
        'vars': ['klant__session_timeout_minutes'],
    }},
    pre_hook="{{ klant.person_incremental_prepare() }}",
    post_hook="{{ klant.person_incremental_remember() }}",
) }}

{#- a visit ends after this long without an event (Google Analytics' and Segment's default) #}
{%- set session_timeout_minutes = var("klant__session_timeout_minutes") -%}
{#- the order of a device's events: by time, ties by messageId so every warehouse agrees -#}
{%- set event_order = ['event_at', klant.collate_binary('message_id')] -%}

with

{#- only the columns a visit reads #}
profiled_events as (
    select
        message_id,
        person_id,
        visitor_id,
        profile_id,
        device_key,
        anonymous_id,
        device_type,
        event_at,
        event_type,
        event_name,
        campaign_source,
        campaign_medium,
        campaign_name
    from {{ ref('int_web_events_profiled') }}
    {%- if is_incremental() %}
    where profile_id in (select profile_id from {{ klant.person_incremental_persons() }})
    {%- endif %}
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

{#- the first event of a visit gives its id and device, the first event carrying a campaign its
    UTM parameters: each the value at the least (event_at, messageId), in one pass #}
session_totals as (
    select
        profile_id,
        device_key,
        session_number,
        {%- for column in [
            'message_id', 'person_id', 'visitor_id', 'anonymous_id', 'device_type',
        ] %}
        {{ klant.value_at_extreme(column, event_order) }} as first_{{ column }},
        {%- endfor %}
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as event_count,
        sum(case when event_type = 'page' then 1 else 0 end) as page_view_count,
        sum(case when event_name = 'Product Viewed' then 1 else 0 end) as product_view_count,
        sum(case when event_name = 'Product Added' then 1 else 0 end) as cart_add_count,
        {%- for column in ['campaign_source', 'campaign_medium', 'campaign_name'] %}
        {{ klant.value_at_extreme(
            column, event_order, where='campaign_source is not null'
        ) }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from numbered
    group by profile_id, device_key, session_number
),

final as (
    select
        first_message_id as session_id,
        first_person_id as person_id,
        first_visitor_id as visitor_id,
        profile_id,
        device_key,
        first_anonymous_id as anonymous_id,
        first_device_type as device_type,
        cast(session_number as integer) as session_number,
        started_at,
        ended_at,
        cast(event_count as integer) as event_count,
        cast(page_view_count as integer) as page_view_count,
        cast(product_view_count as integer) as product_view_count,
        cast(cart_add_count as integer) as cart_add_count,
        campaign_source as utm_source,
        campaign_medium as utm_medium,
        campaign_name as utm_campaign
    from session_totals
)

select * from final
