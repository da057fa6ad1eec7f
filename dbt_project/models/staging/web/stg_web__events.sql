with

events as (
    select * from {{ source('web', 'web_events') }}
),

typed as (
    select
        nullif(trim(message_id), '') as message_id,
        nullif(trim(type), '') as event_type,
        nullif(trim(event), '') as event_name,
        nullif(trim(name), '') as page_name,
        nullif(trim(anonymous_id), '') as anonymous_id,
        nullif(trim(user_id), '') as user_id,
        {{ klant.parse_timestamp('"timestamp"', 'iso8601') }} as event_at,
        {{ klant.parse_timestamp('sent_at', 'iso8601') }} as sent_at,
        {{ klant.parse_timestamp('received_at', 'iso8601') }} as received_at,
        nullif(trim(channel), '') as channel,
        {{ klant.json_text('traits', ['email']) }} as trait_email_text,
        nullif(trim({{ klant.json_text('traits', ['firstName']) }}), '') as trait_first_name,
        nullif(trim({{ klant.json_text('traits', ['lastName']) }}), '') as trait_last_name,
        nullif(trim({{ klant.json_text('traits', ['phone']) }}), '') as trait_phone,
        nullif(trim({{ klant.json_text('properties', ['order_id']) }}), '') as order_id,
        {{ klant.json_text('properties', ['revenue']) }} as revenue_text,
        {{ klant.json_text('properties', ['email']) }} as property_email_text,
        nullif(trim({{ klant.json_text('properties', ['path']) }}), '') as property_path,
        nullif(trim({{ klant.json_text('properties', ['category']) }}), '') as product_category,
        nullif(trim({{ klant.json_text('context', ['page', 'path']) }}), '') as page_path,
        nullif(trim({{ klant.json_text('context', ['page', 'url']) }}), '') as page_url,
        nullif(trim({{ klant.json_text('context', ['page', 'referrer']) }}), '') as page_referrer,
        nullif(trim({{ klant.json_text('context', ['campaign', 'source']) }}), '') as campaign_source,
        nullif(trim({{ klant.json_text('context', ['campaign', 'medium']) }}), '') as campaign_medium,
        nullif(trim({{ klant.json_text('context', ['campaign', 'name']) }}), '') as campaign_name,
        nullif(trim({{ klant.json_text('context', ['userAgent']) }}), '') as user_agent,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from events
),

ranked as (
    select
        *,
        {#- an event never changes: the first load that delivered it wins #}
        row_number() over (
            partition by message_id
            order by _loaded_at, _load_id, _source_file, _line_number
        ) as delivery_rank,
        count(*) over (partition by message_id) as raw_row_count
    from typed
    where message_id is not null
),

normalized as (
    select
        *,
        {{ klant.normalize_email('trait_email_text') }} as trait_email,
        {{ klant.normalize_phone('trait_phone') }} as trait_phone_e164,
        {{ klant.normalize_email('property_email_text') }} as property_email
    from ranked
    where delivery_rank = 1
),

final as (
    select
        message_id,
        event_type,
        event_name,
        page_name,
        anonymous_id,
        user_id,
        event_at,
        sent_at,
        received_at,
        channel,
        trait_email,
        {{ klant.is_valid_email('trait_email') }} as is_trait_email_valid,
        trait_first_name,
        trait_last_name,
        trait_phone,
        trait_phone_e164,
        {{ klant.is_valid_phone('trait_phone_e164') }} as is_trait_phone_valid,
        order_id,
        {{ klant.parse_decimal('revenue_text') }} as revenue,
        property_email,
        {{ klant.is_valid_email('property_email') }} as is_property_email_valid,
        property_path,
        product_category,
        page_path,
        page_url,
        page_referrer,
        campaign_source,
        campaign_medium,
        campaign_name,
        user_agent,
        raw_row_count,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from normalized
)

select * from final
