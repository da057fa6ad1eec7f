{{
    config(
        post_hook="{{ klant.connected_components_cleanup() }}",
    )
}}

with

observations as (
    select * from {{ ref('int_identifiers_observed') }}
),

components as (
    {{ klant.connected_components(ref('int_identifiers_linked'), 'identifier_key_a', 'identifier_key_b') }}
),

identifiers as (
    select distinct
        identifier_key,
        identifier_type,
        identifier_value
    from observations
    where is_linkable
),

clustered as (
    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        components.component_key
    from identifiers
    inner join components
        on components.node_key = identifiers.identifier_key
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
        {#- person = a component with a known identifier; its id derives from the component's
            smallest identifier key (a stable-id registry replaces this later) #}
        case
            when component_sizes.known_identifier_count > 0
                then 'kp_' || left(md5(clustered.component_key), 16)
        end as person_id
    from clustered
    inner join component_sizes
        on component_sizes.component_key = clustered.component_key
)

select * from final
