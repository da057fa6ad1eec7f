with

events as (
    select * from {{ ref('stg_web__events') }}
),

{#- the shop export carries no category; the web tracking's product events carry the sku and
    its category, so the shop's own product pages are the catalogue #}
sku_categories as (
    select
        product_sku as sku,
        product_category as category,
        count(*) as event_count
    from events
    where
        product_sku is not null
        and product_category is not null
    group by product_sku, product_category
),

ranked as (
    select
        *,
        {#- a product moved to another category, or tagged inconsistently, takes the category it
            was seen with most; on a tie the smallest name (by code point) wins, so the answer
            is the same on every warehouse #}
        row_number() over (
            partition by sku
            order by event_count desc, {{ klant.collate_binary('category') }}
        ) as category_rank,
        sum(event_count) over (partition by sku) as sku_event_count,
        count(*) over (partition by sku) as category_count
    from sku_categories
),

final as (
    select
        sku,
        category,
        cast(event_count as integer) as category_event_count,
        cast(sku_event_count as integer) as sku_event_count,
        cast(category_count as integer) as category_count
    from ranked
    where category_rank = 1
)

select * from final
