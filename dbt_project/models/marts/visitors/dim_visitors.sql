with

{#- who is a visitor is decided once, in int_web_events_profiled: an anonymous_id none of whose
    events resolved to a person; its traits are a person's, computed in int_web_profile_traits #}
profile_traits as (
    select * from {{ ref('int_web_profile_traits') }}
    where visitor_id is not null
),

{#- third-party audiences the visitor's cookie is in, as of now #}
audiences as (
    {{ klant.profile_audiences('visitor_id') }}
),

final as (
    select
        profile_traits.visitor_id,
        profile_traits.anonymous_id,
        profile_traits.first_seen_at,
        profile_traits.last_seen_at,
        profile_traits.session_count,
        profile_traits.page_view_count,
        profile_traits.product_view_count,
        profile_traits.cart_add_count,
        profile_traits.last_cart_add_at,
        profile_traits.first_touch_utm_source,
        profile_traits.first_touch_utm_medium,
        profile_traits.first_touch_utm_campaign,
        profile_traits.last_touch_utm_source,
        profile_traits.last_touch_utm_medium,
        profile_traits.last_touch_utm_campaign,
        profile_traits.preferred_device,
        profile_traits.consent_advertising,
        profile_traits.consent_advertising_updated_at,
        profile_traits.consent_personalization,
        profile_traits.consent_personalization_updated_at,
        audiences.dmp_audience_codes,
        cast(coalesce(audiences.dmp_audience_count, 0) as integer) as dmp_audience_count
    from profile_traits
    left join audiences
        on audiences.visitor_id = profile_traits.visitor_id
)

select * from final
