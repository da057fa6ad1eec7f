with

visitors as (
    select * from {{ ref('dim_visitors') }}
),

{#- anonymous visitors who looked hard lately: a product in the cart, or several product pages,
    within the window; the DMP retargets them by cookie #}
final as (
    select
        visitor_id as person_id,
        cart_add_count,
        product_view_count,
        last_seen_at
    from visitors
    where
        {{ klant.in_last_days('last_seen_at', var('klant__high_intent_days')) }}
        and (
            cart_add_count >= 1
            or product_view_count >= {{ var('klant__high_intent_min_product_views') }}
        )
)

select * from final
