with

observations as (
    select * from {{ ref('int_identifiers_observed') }}
),

links as (
    select * from {{ ref('int_identifier_links_limited') }}
),

observation_summary as (
    select
        identifier_type,
        identifier_value,
        identifier_key,
        min(blocked_reason) as blocked_reason,
        {{ dbt.bool_or('is_blocked') }} as is_blocked,
        {{ dbt.bool_or('is_valid') }} as is_valid,
        count(*) as records_affected,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from observations
    group by identifier_type, identifier_value, identifier_key
),

blocked as (
    select
        identifier_type,
        identifier_value,
        'blocklist' as rule,
        blocked_reason as reason,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        cast(null as {{ dbt.type_string() }}) as limit_identifier_type,
        cast(null as {{ dbt.type_bigint() }}) as limit_count,
        cast(null as {{ dbt.type_bigint() }}) as max_per_person,
        records_affected,
        first_observed_at,
        last_observed_at
    from observation_summary
    where is_blocked
),

invalid as (
    select
        identifier_type,
        identifier_value,
        'invalid' as rule,
        case identifier_type
            when 'email' then 'not a valid e-mail address (email-validator), so it links no one'
            when 'phone' then 'not a valid phone number (phonenumbers), so it links no one'
            else 'not a valid ' || identifier_type || ', so it links no one'
        end as reason,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        cast(null as {{ dbt.type_string() }}) as limit_identifier_type,
        cast(null as {{ dbt.type_bigint() }}) as limit_count,
        cast(null as {{ dbt.type_bigint() }}) as max_per_person,
        records_affected,
        first_observed_at,
        last_observed_at
    from observation_summary
    where not is_valid and not is_blocked
),

{#- an identifier the limits dropped: its self-link names the stage and the limit #}
dropped_identifiers as (
    select
        observation_summary.identifier_type,
        observation_summary.identifier_value,
        case
            when
                links.identifier_type_a = 'anonymous_id'
                and links.limit_type = 'user_id'
                and links.drop_stage = 'ambiguous_identifier'
                then 'shared_device'
            else 'limit'
        end as rule,
        case links.drop_stage
            when 'ambiguous_identifier' then
                'its links would put ' || cast(links.limit_count as {{ dbt.type_string() }})
                || ' ' || links.limit_type || ' identifiers in one person (identity_rules: at most '
                || cast(links.limit_max as {{ dbt.type_string() }}) || '): it is shared by '
                || cast(links.groups_touched as {{ dbt.type_string() }})
                || ' groups, so it links no one'
            when 'ambiguous_group' then
                'with the other ' || links.identifier_type_a || ' identifiers of its group it would put '
                || cast(links.limit_count as {{ dbt.type_string() }}) || ' ' || links.limit_type
                || ' identifiers in one person (identity_rules: at most '
                || cast(links.limit_max as {{ dbt.type_string() }})
                || '): each may be the bridge, so none of them links'
            when 'over_limit' then
                'its person would hold ' || cast(links.limit_count as {{ dbt.type_string() }})
                || ' ' || links.limit_type || ' identifiers (identity_rules: at most '
                || cast(links.limit_max as {{ dbt.type_string() }})
                || '): the ones first seen are kept, this later one links no one'
        end as reason,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        links.limit_type as limit_identifier_type,
        links.limit_count,
        links.limit_max as max_per_person,
        observation_summary.records_affected,
        observation_summary.first_observed_at,
        observation_summary.last_observed_at
    from links
    inner join observation_summary
        on observation_summary.identifier_key = links.identifier_key_a
    where
        links.is_self_link
        and not links.is_kept
),

{#- a link the limits dropped between two identifiers that each stay #}
dropped_links as (
    select
        links.identifier_type_a as identifier_type,
        substr(links.identifier_key_a, length(links.identifier_type_a) + 2) as identifier_value,
        'limit' as rule,
        'linking it with this ' || links.identifier_type_b || ' would put '
        || cast(links.limit_count as {{ dbt.type_string() }}) || ' ' || links.limit_type
        || ' identifiers in one person (identity_rules: at most '
        || cast(links.limit_max as {{ dbt.type_string() }}) || '), so the records that carry both '
        || 'do not link them' as reason,
        links.identifier_type_b as linked_identifier_type,
        substr(links.identifier_key_b, length(links.identifier_type_b) + 2) as linked_identifier_value,
        links.limit_type as limit_identifier_type,
        links.limit_count,
        links.limit_max as max_per_person,
        links.record_count as records_affected,
        links.first_observed_at,
        links.last_observed_at
    from links
    where links.drop_stage = 'ambiguous_link'
),

final as (
    select * from blocked
    union all
    select * from invalid
    union all
    select * from dropped_identifiers
    union all
    select * from dropped_links
)

select * from final
