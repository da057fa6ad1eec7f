with

orders as (
    select * from {{ ref('int_orders_attributed') }}
    where person_id is not null
),

order_lines as (
    select * from {{ ref('stg_commerce__order_lines') }}
),

product_categories as (
    select * from {{ ref('int_product_categories') }}
),

rfm_segments as (
    select * from {{ ref('rfm_segments') }}
),

order_totals as (
    select
        person_id,
        count(*) as order_count,
        sum(case when is_revenue_bearing then 1 else 0 end) as revenue_order_count,
        sum(case when is_revenue_bearing then net_revenue else 0 end) as revenue,
        {#- the last 365 days up to as_of: an order placed exactly 365 x 24 hours before as_of
            counts, one a second earlier does not, nor one at as_of or later #}
        sum(
            case
                when
                    is_revenue_bearing
                    and created_at >= {{ dbt.dateadd('day', -365, klant.as_of()) }}
                    and created_at < {{ klant.as_of() }}
                    then net_revenue
                else 0
            end
        ) as revenue_12m,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at,
        max(case when is_revenue_bearing then created_at end) as last_revenue_order_at
    from orders
    group by person_id
),

{#- DuckDB divides decimals in floating point (2.01 / 2 = 1.00499...), so the average order
    value is rounded half up in whole cents, which every warehouse computes exactly (revenue
    of a revenue-bearing order is always positive) #}
order_averages as (
    select
        *,
        case
            when revenue_order_count > 0
                then cast(
                    floor(
                        (2 * cast(revenue * 100 as bigint) + revenue_order_count)
                        / (2 * revenue_order_count)
                    ) as bigint
                )
        end as average_order_cents
    from order_totals
),

{#- RFM ranks only people who bought something: rank() gives ties the lowest rank they share,
    so equal customers get equal scores and 5 is left for the best fifth #}
rfm_ranks as (
    select
        person_id,
        rank() over (order by last_revenue_order_at) as recency_rank,
        rank() over (order by revenue_order_count) as frequency_rank,
        rank() over (order by revenue) as monetary_rank,
        count(*) over () as customer_count
    from order_totals
    where revenue_order_count > 0
),

rfm_scores as (
    select
        person_id,
        cast(1 + floor(5.0 * (recency_rank - 1) / customer_count) as integer)
            as rfm_recency_score,
        cast(1 + floor(5.0 * (frequency_rank - 1) / customer_count) as integer)
            as rfm_frequency_score,
        cast(1 + floor(5.0 * (monetary_rank - 1) / customer_count) as integer)
            as rfm_monetary_score
    from rfm_ranks
),

rfm_named as (
    select
        rfm_scores.*,
        rfm_segments.segment_name as rfm_segment
    from rfm_scores
    left join rfm_segments
        on
            rfm_scores.rfm_recency_score between rfm_segments.recency_score_min
            and rfm_segments.recency_score_max
            and rfm_scores.rfm_frequency_score between rfm_segments.frequency_score_min
            and rfm_segments.frequency_score_max
),

person_categories as (
    select distinct
        orders.person_id,
        {#- a line whose sku the web tracking never showed still says the person bought something #}
        coalesce(product_categories.category, 'Uncategorized') as category
    from orders
    inner join order_lines
        on order_lines.order_name = orders.order_name
    left join product_categories
        on product_categories.sku = order_lines.sku
    where orders.is_revenue_bearing
),

category_lists as (
    select
        person_id,
        {{ dbt.listagg(
            'category', "', '", 'order by ' ~ klant.collate_binary('category')
        ) }} as product_categories
    from person_categories
    group by person_id
),

final as (
    select
        order_averages.person_id,
        cast(order_averages.order_count as integer) as order_count,
        cast(order_averages.revenue_order_count as integer) as revenue_order_count,
        cast(order_averages.revenue as numeric(18, 2)) as revenue,
        cast(order_averages.average_order_cents * 0.01 as numeric(18, 2)) as average_order_value,
        order_averages.first_order_at,
        order_averages.last_order_at,
        cast({{ dbt.datediff(
            'cast(order_averages.last_order_at as date)',
            'cast(' ~ klant.as_of() ~ ' as date)',
            'day'
        ) }} as integer) as days_since_last_order,
        cast(order_averages.revenue_12m as numeric(18, 2)) as revenue_12m,
        rfm_named.rfm_recency_score,
        rfm_named.rfm_frequency_score,
        rfm_named.rfm_monetary_score,
        rfm_named.rfm_segment,
        category_lists.product_categories
    from order_averages
    left join rfm_named
        on rfm_named.person_id = order_averages.person_id
    left join category_lists
        on category_lists.person_id = order_averages.person_id
)

select * from final
