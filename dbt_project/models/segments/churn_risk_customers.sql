with

profiles as (
    select * from {{ ref('dim_profiles') }}
),

final as (
    select
        person_id,
        revenue_order_count,
        revenue,
        last_order_at,
        days_since_last_order
    from profiles
    where
        revenue_order_count >= {{ var('klant__churn_risk_min_orders') }}
        and days_since_last_order >= {{ var('klant__churn_risk_days') }}
)

select * from final
