with

profiles as (
    select * from {{ ref('dim_profiles') }}
),

{#- an order placed after the last add to the cart settles it, whatever its status #}
final as (
    select
        person_id,
        last_cart_add_at,
        last_order_at
    from profiles
    where
        {{ klant.in_last_days('last_cart_add_at', var('klant__cart_abandonment_days')) }}
        and (last_order_at is null or last_order_at < last_cart_add_at)
)

select * from final
