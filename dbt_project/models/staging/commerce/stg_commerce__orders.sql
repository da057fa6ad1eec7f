{#- incremental, as stg_web__events: a run computes only the orders whose raw rows changed since
    the last run (a new export holding the order, or raw rows deleted), over all the order's raw
    rows, and the orders whose country codes the country_aliases seed now gives otherwise
    (macros/staging_incremental.sql); `dbt build --full-refresh` rebuilds. A table rather
    than a view: the order-level models and tests read it many times. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_name',
    pre_hook=[
        "{{ klant.staging_delete_changed_keys(
            source('commerce', 'shopify_orders'), 'name', 'order_name') }}",
        "{{ klant.staging_delete_stale_country_codes(ref('country_aliases'), 'order_name', [
            ('billing_country', 'billing_country_code'),
            ('shipping_country', 'shipping_country_code'),
        ]) }}",
    ]
) }}

with

{#- the raw rows of the orders to compute: every order on a full build, else the orders this
    table lacks (see the config above). Two imports of them, each read once (see below). #}
order_rows as (
    select * from {{ source('commerce', 'shopify_orders') }} as raw_orders
    {%- if is_incremental() %}
    where {{ klant.staging_keys_missing('raw_orders', 'name', 'order_name') }}
    {%- endif %}
),

order_row_keys as (
    select * from {{ source('commerce', 'shopify_orders') }} as raw_orders
    {%- if is_incremental() %}
    where {{ klant.staging_keys_missing('raw_orders', 'name', 'order_name') }}
    {%- endif %}
),

country_aliases as (
    select * from {{ ref('country_aliases') }}
),

{#- one import per lookup, each read once: DuckDB materializes a CTE that is read twice, and
    then no longer prunes the columns a query does not use (several times slower) #}
emails as (
    select * from {{ source('normalization', 'identifier_dictionary') }}
    where identifier_type = 'email' and region = ''
),

billing_phones as (
    select * from {{ source('normalization', 'identifier_dictionary') }}
    where identifier_type = 'phone'
),

customer_phones as (
    select * from {{ source('normalization', 'identifier_dictionary') }}
    where identifier_type = 'phone'
),

country_regions as (
    {{ klant.country_regions('country_aliases') }}
),

{#- an order's first row carries the order-level fields; when the order is in several exports
    the latest load wins (statuses and refunds change after the sale) #}
{%- if target.type == 'duckdb' %}
{#- DuckDB: ranked on the few columns that order the rows (and the identifiers looked up below),
    then only the winning raw row is read in full: ranking rows of every column is several
    times slower. A raw row is one line of one file of one load. #}
header_ranks as (
    select
        trim(name) as order_name,
        _load_id,
        _source_file,
        _line_number,
        email,
        billing_phone,
        phone,
        billing_country,
        shipping_country,
        row_number() over (
            partition by trim(name)
            order by
                case when financial_status is not null or total is not null then 0 else 1 end,
                _loaded_at desc,
                _load_id desc,
                _source_file desc,
                _line_number
        ) as header_rank,
        count(*) over (partition by trim(name)) as raw_row_count
    from order_row_keys
    where nullif(trim(name), '') is not null
),

winning_rows as (
    select * from header_ranks
    where header_rank = 1
),
{%- else %}
{#- elsewhere (PostgreSQL) every raw row is ranked whole, as before: its planner estimates the
    four-column join back to the winning row at one row, and then picks nested loops #}
winning_rows as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by trim(name)
                order by
                    case when financial_status is not null or total is not null then 0 else 1 end,
                    _loaded_at desc,
                    _load_id desc,
                    _source_file desc,
                    _line_number
            ) as header_rank,
            count(*) over (partition by trim(name)) as raw_row_count
        from order_rows
        where nullif(trim(name), '') is not null
    ) as ranked_rows
    where header_rank = 1
),
{%- endif %}

{#- the winning rows' countries, e-mail and phones looked up. The identifiers were normalized
    once per distinct raw text in Python; the raw text is the key, untrimmed, and phones were
    read with the billing country as region hint. The names made up here start with '_', as no
    raw column's can. #}
looked_up as (
    select
        winning_rows.*,
        emails.normalized_value as _email_normalized,
        coalesce(emails.is_valid, false) as _is_email_valid,
        billing_countries.country_code as _billing_country_code,
        billing_phones.normalized_value as _billing_phone_e164,
        coalesce(billing_phones.is_valid, false) as _is_billing_phone_valid,
        shipping_countries.country_code as _shipping_country_code,
        customer_phones.normalized_value as _phone_e164,
        coalesce(customer_phones.is_valid, false) as _is_phone_valid
    from winning_rows
    left join country_regions as billing_countries
        on billing_countries.alias_key = lower(trim(winning_rows.billing_country))
    left join country_regions as shipping_countries
        on shipping_countries.alias_key = lower(trim(winning_rows.shipping_country))
    left join emails
        on
            emails.raw_value = winning_rows.email
            and emails.region = ''
    left join billing_phones
        on
            billing_phones.raw_value = winning_rows.billing_phone
            and billing_phones.region = coalesce(billing_countries.country_code, '')
    left join customer_phones
        on
            customer_phones.raw_value = winning_rows.phone
            and customer_phones.region = coalesce(billing_countries.country_code, '')
),

{%- if target.type == 'duckdb' %}

{#- the winning raw rows read in full. The lookups ran on the narrow ranked rows: run on the full
    rows, DuckDB (misjudging the four-column join as a few thousand rows) held every order's
    full row in a hash table once per lookup, and ran out of memory at a million people. #}
header_rows as (
    select
        order_rows.*,
        looked_up.raw_row_count,
        looked_up._email_normalized,
        looked_up._is_email_valid,
        looked_up._billing_country_code,
        looked_up._billing_phone_e164,
        looked_up._is_billing_phone_valid,
        looked_up._shipping_country_code,
        looked_up._phone_e164,
        looked_up._is_phone_valid
    from order_rows
    inner join looked_up
        on
            looked_up.order_name = trim(order_rows.name)
            and coalesce(looked_up._load_id, '') = coalesce(order_rows._load_id, '')
            and coalesce(looked_up._source_file, '') = coalesce(order_rows._source_file, '')
            and coalesce(looked_up._line_number, -1) = coalesce(order_rows._line_number, -1)
),
{%- else %}

header_rows as (
    select * from looked_up
),
{%- endif %}

typed as (
    select
        trim(name) as order_name,
        nullif(trim(id), '') as order_id,
        _email_normalized as email,
        _is_email_valid as is_email_valid,
        lower(nullif(trim(financial_status), '')) as financial_status,
        lower(nullif(trim(fulfillment_status), '')) as fulfillment_status,
        case lower(trim(accepts_marketing))
            when 'yes' then true
            when 'no' then false
        end as accepts_marketing,
        upper(nullif(trim(currency), '')) as currency,
        {{ klant.parse_decimal('subtotal') }} as subtotal,
        {{ klant.parse_decimal('shipping') }} as shipping,
        {{ klant.parse_decimal('taxes') }} as taxes,
        {{ klant.parse_decimal('total') }} as total,
        nullif(trim(discount_code), '') as discount_code,
        {{ klant.parse_decimal('discount_amount') }} as discount_amount,
        {{ klant.parse_decimal('refunded_amount') }} as refunded_amount,
        nullif(trim(shipping_method), '') as shipping_method,
        {{ klant.parse_timestamp('created_at', 'shopify') }} as created_at,
        {{ klant.parse_timestamp('paid_at', 'shopify') }} as paid_at,
        {{ klant.parse_timestamp('fulfilled_at', 'shopify') }} as fulfilled_at,
        {{ klant.parse_timestamp('cancelled_at', 'shopify') }} as cancelled_at,
        nullif(trim(billing_name), '') as billing_name,
        nullif(trim(billing_company), '') as billing_company,
        nullif(trim(billing_street), '') as billing_street,
        nullif(trim(billing_city), '') as billing_city,
        nullif(trim(billing_zip), '') as billing_zip,
        nullif(trim(billing_country), '') as billing_country,
        _billing_country_code as billing_country_code,
        nullif(trim(billing_phone), '') as billing_phone,
        _billing_phone_e164 as billing_phone_e164,
        _is_billing_phone_valid as is_billing_phone_valid,
        nullif(trim(shipping_country), '') as shipping_country,
        _shipping_country_code as shipping_country_code,
        nullif(trim(phone), '') as phone,
        _phone_e164 as phone_e164,
        _is_phone_valid as is_phone_valid,
        nullif(trim(payment_method), '') as payment_method,
        nullif(trim(source), '') as order_source,
        nullif(trim(tags), '') as tags,
        nullif(trim(risk_level), '') as risk_level,
        raw_row_count,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from header_rows
),

final as (
    select
        order_name,
        order_id,
        email,
        is_email_valid,
        financial_status,
        fulfillment_status,
        accepts_marketing,
        currency,
        subtotal,
        shipping,
        taxes,
        total,
        discount_code,
        discount_amount,
        refunded_amount,
        shipping_method,
        created_at,
        paid_at,
        fulfilled_at,
        cancelled_at,
        billing_name,
        billing_company,
        billing_street,
        billing_city,
        billing_zip,
        billing_country,
        billing_country_code,
        billing_phone,
        billing_phone_e164,
        is_billing_phone_valid,
        shipping_country,
        shipping_country_code,
        phone,
        phone_e164,
        is_phone_valid,
        payment_method,
        order_source,
        tags,
        risk_level,
        raw_row_count,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from typed
)

select * from final
