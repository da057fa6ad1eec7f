{#- which raw row of each messageId is the event: the first load that delivered it wins (an event
    never changes). Only the few columns that order the deliveries are read and ranked here, so
    stg_web__events reads and parses the JSON of the winning raw row alone: ranking, joining back
    and parsing the wide rows in one statement ran out of memory at 10M events (a million people,
    4 to 14 GB). A raw row is one line of one file of one load.

    Incremental like stg_web__events (macros/staging_incremental.sql): a run ranks only the
    messageIds whose raw rows changed since the last run, over all their raw rows. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='message_id',
    pre_hook="{{ klant.staging_delete_changed_keys(
        source('web', 'web_events'), 'message_id', 'message_id') }}",
    post_hook="{{ klant.refresh_statistics(this) }}"
) }}

with

events as (
    select * from {{ source('web', 'web_events') }} as raw_events
    {%- if is_incremental() %}
    where {{ klant.staging_keys_missing('raw_events', 'message_id', 'message_id') }}
    {%- endif %}
),

ranked as (
    select
        nullif(trim(message_id), '') as message_id,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at,
        row_number() over (
            partition by nullif(trim(message_id), '')
            order by _loaded_at, _load_id, _source_file, _line_number
        ) as delivery_rank,
        count(*) over (partition by nullif(trim(message_id), '')) as raw_row_count
    from events
    where nullif(trim(message_id), '') is not null
),

final as (
    select
        message_id,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at,
        raw_row_count
    from ranked
    where delivery_rank = 1
)

select * from final
