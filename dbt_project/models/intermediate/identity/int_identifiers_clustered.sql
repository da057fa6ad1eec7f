with

links as (
    select * from {{ ref('int_identifier_links_limited') }}
),

{#- an identifier's self-link is kept unless the limits dropped the identifier #}
clustered as (
    select
        identifier_key_a as identifier_key,
        identifier_type_a as identifier_type,
        substr(identifier_key_a, length(identifier_type_a) + 2) as identifier_value,
        component_key,
        first_observed_at as first_seen_at
    from links
    where is_self_link and is_kept
),

component_sizes as (
    select
        component_key,
        count(*) as component_size,
        sum(case when identifier_type <> 'anonymous_id' then 1 else 0 end) as known_identifier_count
    from clustered
    group by component_key
),

final as (
    select
        clustered.identifier_key,
        clustered.identifier_type,
        clustered.identifier_value,
        clustered.component_key,
        component_sizes.component_size,
        component_sizes.known_identifier_count > 0 as is_person,
        clustered.first_seen_at
    from clustered
    inner join component_sizes
        on component_sizes.component_key = clustered.component_key
)

select * from final
