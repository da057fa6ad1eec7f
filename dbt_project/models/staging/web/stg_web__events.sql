{#- a table, not a view like the rest of staging: every event's JSON is parsed once here
    rather than again by each of the models and tests that read the events #}
{{ config(materialized='table') }}

with

events as (
    select * from {{ source('web', 'web_events') }}
),

{#- events carry no country: their identifiers were normalized with region '' (phones read
    with the default region). One import per lookup, each read once: DuckDB materializes a CTE
    that is read twice, and then no longer prunes the columns a query does not use. #}
trait_emails as (
    select * from {{ source('normalization', 'identifier_dictionary') }}
    where identifier_type = 'email' and region = ''
),

trait_phones as (
    select * from {{ source('normalization', 'identifier_dictionary') }}
    where identifier_type = 'phone' and region = ''
),

property_emails as (
    select * from {{ source('normalization', 'identifier_dictionary') }}
    where identifier_type = 'email' and region = ''
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
        {{ klant.json_text('traits', ['phone']) }} as trait_phone_text,
        nullif(trim({{ klant.json_text('properties', ['order_id']) }}), '') as order_id,
        {{ klant.json_text('properties', ['revenue']) }} as revenue_text,
        {{ klant.json_text('properties', ['email']) }} as property_email_text,
        nullif(trim({{ klant.json_text('properties', ['path']) }}), '') as property_path,
        nullif(trim({{ klant.json_text('properties', ['category']) }}), '') as product_category,
        nullif(trim({{ klant.json_text('properties', ['sku']) }}), '') as product_sku,
        {#- Segment Consent Management stamps the preferences on every event's context; a consent
            change event ("Segment Consent Preference Updated", "Consent Updated") sent by hand
            may carry them in its properties instead, read only when the context has none #}
        coalesce(
            {{ klant.json_text('context', ['consent', 'categoryPreferences']) }},
            {{ klant.json_text('properties', ['categoryPreferences']) }},
            {{ klant.json_text('properties', ['consent', 'categoryPreferences']) }},
            {{ klant.json_text('properties', ['consent']) }}
        ) as consent_preferences_text,
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

{#- category ids are the site's own ("advertising" in the sample, "Advertising" in Segment's
    docs), so keys are compared in lower case; only an object is read, so a stray scalar (a
    "consent": "yes") is no statement rather than a JSON error #}
preferences as (
    select
        *,
        case
            when substr(trim(consent_preferences_text), 1, 1) = '{'
                then lower(consent_preferences_text)
        end as consent_preferences_json
    from typed
),

consents as (
    select
        *,
        lower(trim({{ klant.json_text('consent_preferences_json', ['advertising']) }}))
            as consent_advertising_text,
        lower(trim({{ klant.json_text('consent_preferences_json', ['personalization']) }}))
            as consent_personalization_text
    from preferences
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
    from consents
    where message_id is not null
),

normalized as (
    select
        ranked.*,
        nullif(trim(ranked.trait_phone_text), '') as trait_phone,
        trait_emails.normalized_value as trait_email,
        coalesce(trait_emails.is_valid, false) as is_trait_email_valid,
        trait_phones.normalized_value as trait_phone_e164,
        coalesce(trait_phones.is_valid, false) as is_trait_phone_valid,
        property_emails.normalized_value as property_email,
        coalesce(property_emails.is_valid, false) as is_property_email_valid
    from ranked
    {#- normalized once per distinct raw text in Python; the extracted text is the key, untrimmed #}
    left join trait_emails
        on trait_emails.raw_value = ranked.trait_email_text
    left join trait_phones
        on trait_phones.raw_value = ranked.trait_phone_text
    left join property_emails
        on property_emails.raw_value = ranked.property_email_text
    where ranked.delivery_rank = 1
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
        is_trait_email_valid,
        trait_first_name,
        trait_last_name,
        trait_phone,
        trait_phone_e164,
        is_trait_phone_valid,
        order_id,
        {{ klant.parse_decimal('revenue_text') }} as revenue,
        property_email,
        is_property_email_valid,
        property_path,
        product_category,
        product_sku,
        {#- Segment Consent Management sends the visitor's category preferences with every event;
            anything but a JSON true or false is no statement #}
        case consent_advertising_text
            when 'true' then true
            when 'false' then false
        end as consent_advertising,
        case consent_personalization_text
            when 'true' then true
            when 'false' then false
        end as consent_personalization,
        page_path,
        page_url,
        page_referrer,
        campaign_source,
        campaign_medium,
        campaign_name,
        user_agent,
        {#- tablets first: an iPad or an Android without "Mobile" is a tablet, then phones #}
        case
            when user_agent is null then null
            when user_agent like '%iPad%' or user_agent like '%Tablet%' then 'tablet'
            when user_agent like '%Android%' and user_agent not like '%Mobile%' then 'tablet'
            when user_agent like '%Mobi%' or user_agent like '%iPhone%' then 'mobile'
            else 'desktop'
        end as device_type,
        raw_row_count,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from normalized
)

select * from final
