with

{#- who is a visitor is decided once, in int_web_events_profiled: an anonymous_id none of whose
    events resolved to a person; its traits are a person's, computed in int_web_profile_traits #}
profile_traits as (
    select * from {{ ref('int_web_profile_traits') }}
    where visitor_id is not null
),

final as (
    select
        visitor_id,
        anonymous_id,
        first_seen_at,
        last_seen_at,
        session_count,
        page_view_count,
        product_view_count,
        cart_add_count,
        last_cart_add_at,
        first_touch_utm_source,
        first_touch_utm_medium,
        first_touch_utm_campaign,
        last_touch_utm_source,
        last_touch_utm_medium,
        last_touch_utm_campaign,
        preferred_device,
        consent_advertising,
        consent_advertising_updated_at,
        consent_personalization,
        consent_personalization_updated_at
    from profile_traits
)

select * from final
