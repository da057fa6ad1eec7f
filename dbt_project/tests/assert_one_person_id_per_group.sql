{#- The registry and the graph agree: every person group has exactly one person id, and no
    person id spans two groups. -#}
with

identifiers as (
    select * from {{ ref('int_identifiers_clustered') }}
    where is_person
),

registry as (
    select * from {{ ref('int_identifiers_registered') }}
),

joined as (
    select
        identifiers.identifier_key,
        identifiers.component_key,
        registry.person_id
    from identifiers
    left join registry
        on registry.identifier_key = identifiers.identifier_key
),

final as (
    select
        'identifier without person id' as problem,
        identifier_key as detail
    from joined
    where person_id is null
    union all
    select
        'group with several person ids' as problem,
        component_key as detail
    from joined
    group by component_key
    having count(distinct person_id) > 1
    union all
    select
        'person id in several groups' as problem,
        person_id as detail
    from joined
    where person_id is not null
    group by person_id
    having count(distinct component_key) > 1
)

select * from final
