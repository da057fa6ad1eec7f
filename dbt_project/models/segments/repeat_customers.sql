with

profiles as (
    select * from {{ ref('dim_profiles') }}
),

final as (
    select
        person_id,
        revenue_order_count,
        revenue,
        first_order_at,
        last_order_at
    from profiles
    where revenue_order_count >= {{ var('klant__repeat_customer_min_orders') }}
)

select * from final
