{#- a table, not a view like most of staging: every event's JSON is parsed once here rather than
    again by each of the models and tests that read the events. Incremental: a run computes only
    the events of messageIds whose raw rows changed since the last run (new, re-delivered, or
    some raw rows deleted), over all their raw rows (macros/staging_incremental.sql); the pre-hook
    first deletes the staged rows of those that changed. `dbt build --full-refresh` rebuilds. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='message_id',
    pre_hook="{{ klant.staging_delete_changed_keys(
        source('web', 'web_events'), 'message_id', 'message_id') }}"
) }}

{#- the JSON paths read, per column: each column's text is parsed once (macros/json_texts.sql) #}
{%- set trait_paths = [['email'], ['firstName'], ['lastName'], ['phone']] %}
{%- set property_paths = [
    ['order_id'], ['revenue'], ['email'], ['path'], ['category'], ['sku'],
    ['categoryPreferences'], ['consent', 'categoryPreferences'], ['consent']
] %}
{%- set context_paths = [
    ['consent', 'categoryPreferences'], ['page', 'path'], ['page', 'url'], ['page', 'referrer'],
    ['campaign', 'source'], ['campaign', 'medium'], ['campaign', 'name'], ['userAgent']
] %}
{%- set consent_paths = [['advertising'], ['personalization']] %}

with

{#- the raw rows of the events to compute: every event on a full build, else the events this
    table lacks (see the config above) #}
events as (
    select * from {{ source('web', 'web_events') }} as raw_events
    {%- if is_incremental() %}
    where {{ klant.staging_keys_missing('raw_events', 'message_id', 'message_id') }}
    {%- endif %}
),

{#- the winning raw row of each messageId to compute (stg_web__event_deliveries) #}
deliveries as (
    select * from {{ ref('stg_web__event_deliveries') }} as event_deliveries
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as staged
        where staged.message_id = event_deliveries.message_id
    )
    {%- endif %}
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

{#- an event never changes: only the raw row of the first load that delivered it is read in
    full and parsed. A raw row is one line of one file of one load. #}
delivered as (
    select
        events.*,
        deliveries.raw_row_count
    from events
    inner join deliveries
        on
            deliveries.message_id = nullif(trim(events.message_id), '')
            and coalesce(deliveries._load_id, '') = coalesce(events._load_id, '')
            and coalesce(deliveries._source_file, '') = coalesce(events._source_file, '')
            and coalesce(deliveries._line_number, -1) = coalesce(events._line_number, -1)
),

{#- each JSON text parsed once, for all the paths read from it #}
parsed as (
    select
        *,
        {{ klant.json_texts('traits', trait_paths) }} as trait_texts,
        {{ klant.json_texts('properties', property_paths) }} as property_texts,
        {{ klant.json_texts('context', context_paths) }} as context_texts
    from delivered
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
        {{ klant.json_texts_item('trait_texts', trait_paths, ['email']) }} as trait_email_text,
        nullif(trim(
            {{ klant.json_texts_item('trait_texts', trait_paths, ['firstName']) }}
        ), '') as trait_first_name,
        nullif(trim(
            {{ klant.json_texts_item('trait_texts', trait_paths, ['lastName']) }}
        ), '') as trait_last_name,
        {{ klant.json_texts_item('trait_texts', trait_paths, ['phone']) }} as trait_phone_text,
        nullif(trim(
            {{ klant.json_texts_item('property_texts', property_paths, ['order_id']) }}
        ), '') as order_id,
        {{ klant.json_texts_item('property_texts', property_paths, ['revenue']) }} as revenue_text,
        {{ klant.json_texts_item('property_texts', property_paths, ['email']) }}
            as property_email_text,
        nullif(trim(
            {{ klant.json_texts_item('property_texts', property_paths, ['path']) }}
        ), '') as property_path,
        nullif(trim(
            {{ klant.json_texts_item('property_texts', property_paths, ['category']) }}
        ), '') as product_category,
        nullif(trim(
            {{ klant.json_texts_item('property_texts', property_paths, ['sku']) }}
        ), '') as product_sku,
        {#- Segment Consent Management stamps the preferences on every event's context; a consent
            change event ("Segment Consent Preference Updated", "Consent Updated") sent by hand
            may carry them in its properties instead, read only when the context has none #}
        coalesce(
            {{ klant.json_texts_item(
                'context_texts', context_paths, ['consent', 'categoryPreferences']
            ) }},
            {{ klant.json_texts_item('property_texts', property_paths, ['categoryPreferences']) }},
            {{ klant.json_texts_item(
                'property_texts', property_paths, ['consent', 'categoryPreferences']
            ) }},
            {{ klant.json_texts_item('property_texts', property_paths, ['consent']) }}
        ) as consent_preferences_text,
        nullif(trim(
            {{ klant.json_texts_item('context_texts', context_paths, ['page', 'path']) }}
        ), '') as page_path,
        nullif(trim(
            {{ klant.json_texts_item('context_texts', context_paths, ['page', 'url']) }}
        ), '') as page_url,
        nullif(trim(
            {{ klant.json_texts_item('context_texts', context_paths, ['page', 'referrer']) }}
        ), '') as page_referrer,
        nullif(trim(
            {{ klant.json_texts_item('context_texts', context_paths, ['campaign', 'source']) }}
        ), '') as campaign_source,
        nullif(trim(
            {{ klant.json_texts_item('context_texts', context_paths, ['campaign', 'medium']) }}
        ), '') as campaign_medium,
        nullif(trim(
            {{ klant.json_texts_item('context_texts', context_paths, ['campaign', 'name']) }}
        ), '') as campaign_name,
        nullif(trim(
            {{ klant.json_texts_item('context_texts', context_paths, ['userAgent']) }}
        ), '') as user_agent,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at,
        raw_row_count
    from parsed
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

preferences_parsed as (
    select
        *,
        {{ klant.json_texts('consent_preferences_json', consent_paths) }} as consent_texts
    from preferences
),

consents as (
    select
        *,
        lower(trim({{ klant.json_texts_item('consent_texts', consent_paths, ['advertising']) }}))
            as consent_advertising_text,
        lower(trim(
            {{ klant.json_texts_item('consent_texts', consent_paths, ['personalization']) }}
        )) as consent_personalization_text
    from preferences_parsed
),

normalized as (
    select
        consents.*,
        nullif(trim(consents.trait_phone_text), '') as trait_phone,
        trait_emails.normalized_value as trait_email,
        coalesce(trait_emails.is_valid, false) as is_trait_email_valid,
        trait_phones.normalized_value as trait_phone_e164,
        coalesce(trait_phones.is_valid, false) as is_trait_phone_valid,
        property_emails.normalized_value as property_email,
        coalesce(property_emails.is_valid, false) as is_property_email_valid
    from consents
    {#- normalized once per distinct raw text in Python; the extracted text is the key, untrimmed #}
    left join trait_emails
        on trait_emails.raw_value = consents.trait_email_text
    left join trait_phones
        on trait_phones.raw_value = consents.trait_phone_text
    left join property_emails
        on property_emails.raw_value = consents.property_email_text
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
