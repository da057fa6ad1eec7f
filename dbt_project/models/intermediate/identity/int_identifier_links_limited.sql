{#- Incremental by link group (macros/identity_incremental.sql): a run computes again only the
    link groups whose links changed, and leaves the table as a full rebuild would. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ klant.identity_incremental_prepare() }}",
        post_hook=[
            "{{ klant.connected_components_cleanup() }}",
            "{{ klant.identity_incremental_remember() }}",
        ],
    )
}}

{%- set scope = klant.identity_incremental_scope() %}

with

links as (
    select * from {{ ref('int_identifiers_linked') }}
    {%- if scope is not none %}
    where identifier_id_a in (select node from {{ scope }})
    {%- endif %}
),

limited as (
    {{ klant.connected_components_with_limits(
        ref('int_identifiers_linked'), ref('identity_rules'), scope=scope
    ) }}
),

verdicts as (
    select
        links.identifier_key_a,
        links.identifier_key_b,
        links.identifier_type_a,
        links.identifier_type_b,
        links.is_self_link,
        limited.level as link_level,
        limited.is_kept,
        limited.component_id,
        limited.drop_stage,
        case limited.dropped_node
            when links.identifier_id_a then links.identifier_key_a
            when links.identifier_id_b then links.identifier_key_b
        end as dropped_identifier_key,
        limited.limit_type,
        limited.limit_count,
        limited.limit_max,
        limited.groups_touched,
        limited.link_group,
        links.identifier_id_a,
        links.identifier_id_b,
        links.record_count,
        links.first_observed_at,
        links.last_observed_at
    from links
    inner join limited
        on
            limited.node_a = links.identifier_id_a
            and limited.node_b = links.identifier_id_b
),

{#- a group is named by its smallest identifier key (compared by code point, the same on
    every warehouse), whatever the integer ids were #}
component_keys as (
    select
        component_id,
        identifier_key_a as component_key
    from (
        select
            component_id,
            identifier_key_a,
            row_number() over (
                partition by component_id
                order by {{ klant.collate_binary('identifier_key_a') }}
            ) as key_rank
        from verdicts
        where is_self_link and is_kept
    ) as ranked
    where key_rank = 1
),

final as (
    select
        verdicts.identifier_key_a,
        verdicts.identifier_key_b,
        verdicts.identifier_type_a,
        verdicts.identifier_type_b,
        verdicts.is_self_link,
        verdicts.link_level,
        verdicts.is_kept,
        component_keys.component_key,
        verdicts.drop_stage,
        verdicts.dropped_identifier_key,
        verdicts.limit_type,
        verdicts.limit_count,
        verdicts.limit_max,
        verdicts.groups_touched,
        verdicts.record_count,
        verdicts.first_observed_at,
        verdicts.last_observed_at,
        verdicts.identifier_id_a,
        verdicts.identifier_id_b,
        verdicts.link_group
    from verdicts
    left join component_keys
        on
            verdicts.is_kept
            and component_keys.component_id = verdicts.component_id
)

select * from final
