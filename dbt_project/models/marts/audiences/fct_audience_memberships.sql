with

memberships as (
    select * from {{ ref('int_audience_memberships_resolved') }}
    where profile_id is not null
),

{#- the provider's newest statement known at as-of wins, whether it extends, shortens or ends
    the membership; a fetch from after as-of does not exist yet. Ties (one fetch naming the
    person by cookie and by hashed e-mail) go to the later expiry, then the cookie. #}
ranked as (
    select
        *,
        row_number() over (
            partition by profile_id, audience_code, provider
            order by
                fetched_at desc,
                expires_at desc,
                matched_by,
                _loaded_at desc,
                {{ klant.collate_binary('membership_key') }}
        ) as fetch_rank
    from memberships
    where fetched_at <= {{ klant.as_of() }}
),

final as (
    select
        profile_id,
        person_id,
        visitor_id,
        audience_code,
        audience_name,
        provider,
        fetched_at,
        expires_at,
        matched_by
    from ranked
    where
        fetch_rank = 1
        and expires_at > {{ klant.as_of() }}
)

select * from final
