{#- The loop's result must be a closed partition: both identifiers of every kept link sit in the
    same group, and each group is labelled with its own smallest identifier key. -#}
with

links as (
    select * from {{ ref('int_identifier_links_limited') }}
    where is_kept and not is_self_link
),

identifiers as (
    select * from {{ ref('int_identifiers_clustered') }}
),

split_links as (
    select
        links.identifier_key_a,
        links.identifier_key_b,
        a.component_key as component_key_a,
        b.component_key as component_key_b
    from links
    left join identifiers as a
        on a.identifier_key = links.identifier_key_a
    left join identifiers as b
        on b.identifier_key = links.identifier_key_b
    where
        a.component_key is null
        or b.component_key is null
        or a.component_key <> b.component_key
),

ranked as (
    select
        component_key,
        identifier_key,
        row_number() over (
            partition by component_key
            order by {{ klant.collate_binary('identifier_key') }}
        ) as key_rank
    from identifiers
),

mislabelled_components as (
    select
        component_key,
        identifier_key as smallest_identifier_key
    from ranked
    where key_rank = 1 and identifier_key <> component_key
),

final as (
    select
        'split link' as problem,
        identifier_key_a as identifier_key,
        coalesce(component_key_a, '-') || ' / ' || coalesce(component_key_b, '-') as detail
    from split_links
    union all
    select
        'mislabelled component' as problem,
        component_key as identifier_key,
        smallest_identifier_key as detail
    from mislabelled_components
)

select * from final
