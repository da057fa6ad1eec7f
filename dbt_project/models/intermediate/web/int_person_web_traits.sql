with

profile_traits as (
    select * from {{ ref('int_web_profile_traits') }}
    where person_id is not null
),

final as (
    select
        person_id,
        session_count,
        page_view_count,
        product_view_count,
        cart_add_count,
        last_cart_add_at,
        first_seen_at as web_first_seen_at,
        last_seen_at as web_last_seen_at,
        first_touch_utm_source,
        first_touch_utm_medium,
        first_touch_utm_campaign,
        last_touch_utm_source,
        last_touch_utm_medium,
        last_touch_utm_campaign,
        preferred_device
    from profile_traits
)

select * from final
