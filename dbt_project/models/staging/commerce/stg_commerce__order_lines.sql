{#- a table rather than a view: the line-level models and tests read it many times. Not
    incremental: the lines carry no count of the order's raw rows to see a change by, and they
    are rebuilt from the raw rows in one pass. #}
{{ config(materialized='table') }}

with

order_rows as (
    select * from {{ source('commerce', 'shopify_orders') }}
),

rows_keyed as (
    select
        trim(name) as order_name,
        nullif(trim(lineitem_sku), '') as sku,
        nullif(trim(lineitem_name), '') as product_name,
        {{ klant.parse_integer('lineitem_quantity') }} as quantity,
        {{ klant.parse_decimal('lineitem_price') }} as price,
        {{ klant.parse_decimal('lineitem_compare_at_price') }} as compare_at_price,
        {{ klant.parse_decimal('lineitem_discount') }} as discount,
        lower(nullif(trim(lineitem_fulfillment_status), '')) as fulfillment_status,
        nullif(trim(vendor), '') as vendor,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from order_rows
    where
        nullif(trim(name), '') is not null
        and coalesce(nullif(trim(lineitem_sku), ''), nullif(trim(lineitem_name), '')) is not null
),

{#- the lines come from the single file copy (load, file) of the order that staging reads its
    header from, so overlapping exports never add lines twice #}
order_copies as (
    select
        order_name,
        _load_id,
        _source_file,
        row_number() over (
            partition by order_name
            order by _loaded_at desc, _load_id desc, _source_file desc
        ) as copy_rank
    from rows_keyed
    group by order_name, _load_id, _source_file, _loaded_at
),

chosen_rows as (
    select
        rows_keyed.*,
        {#- Shopify merges identical items into one line with a quantity, so a second row with
            the same sku, name and price is a repeated row #}
        row_number() over (
            partition by rows_keyed.order_name, rows_keyed.sku, rows_keyed.product_name, rows_keyed.price
            order by rows_keyed._line_number
        ) as repeat_rank
    from rows_keyed
    inner join order_copies
        on
            order_copies.order_name = rows_keyed.order_name
            and order_copies._load_id = rows_keyed._load_id
            and order_copies._source_file = rows_keyed._source_file
    where order_copies.copy_rank = 1
),

final as (
    select
        order_name,
        cast(row_number() over (partition by order_name order by _line_number) as integer)
            as line_number,
        sku,
        product_name,
        quantity,
        price,
        compare_at_price,
        discount,
        fulfillment_status,
        vendor,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from chosen_rows
    where repeat_rank = 1
)

select * from final
