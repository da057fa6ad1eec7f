with

profiles as (
    select * from {{ ref('dim_profiles') }}
),

final as (
    select
        person_id,
        rfm_recency_score,
        rfm_frequency_score,
        rfm_monetary_score,
        revenue,
        last_order_at
    from profiles
    where rfm_segment = 'Champions'
)

select * from final
