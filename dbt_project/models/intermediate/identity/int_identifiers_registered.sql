{{
    config(
        materialized='incremental',
        unique_key='identifier_key',
        incremental_strategy='delete+insert',
        post_hook="delete from {{ this }} where person_id is null",
    )
}}

{#- The person-id registry: every identifier of a person with the person's lasting id, read
    back through {{ this }} on the next build. Rows of identifiers no longer in any person are
    written with a null person_id to replace their old row, and the post_hook deletes them.
    `dbt build --full-refresh` forgets the registry: ids start again at kp_0000000001. #}

with

clustered as (
    select * from {{ ref('int_identifiers_clustered') }}
),

{% if is_incremental() %}
previous as (
    select
        identifier_key,
        person_id,
        first_seen_at,
        assigned_at,
        last_issued_sequence
    from {{ this }}
),
{% else %}
previous as (
    select
        cast(null as {{ dbt.type_string() }}) as identifier_key,
        cast(null as {{ dbt.type_string() }}) as person_id,
        cast(null as timestamp) as first_seen_at,
        cast(null as timestamp) as assigned_at,
        cast(null as {{ dbt.type_bigint() }}) as last_issued_sequence
    where 1 = 0
),
{% endif %}

{#- an identifier's first sighting only ever moves earlier #}
identifiers as (
    select
        clustered.identifier_key,
        clustered.component_key,
        case
            when previous.first_seen_at is null then clustered.first_seen_at
            when clustered.first_seen_at is null then previous.first_seen_at
            when previous.first_seen_at < clustered.first_seen_at then previous.first_seen_at
            else clustered.first_seen_at
        end as first_seen_at,
        previous.person_id as previous_person_id,
        previous.assigned_at as previous_assigned_at
    from clustered
    left join previous
        on previous.identifier_key = clustered.identifier_key
    where clustered.is_person
),

groups as (
    select
        component_key,
        min(first_seen_at) as first_seen_at
    from identifiers
    group by component_key
),

old_persons as (
    select
        person_id,
        min(first_seen_at) as first_seen_at
    from previous
    where person_id is not null
    group by person_id
),

{#- how many identifiers of each old person each group holds now #}
claims as (
    select
        component_key,
        previous_person_id as person_id,
        count(*) as identifier_count
    from identifiers
    where previous_person_id is not null
    group by component_key, previous_person_id
),

{#- an old id stays with the group that holds most of its identifiers: when a person splits
    (a rule change, an erasure), the larger part keeps the id; ties go to the earlier-seen
    group, then the smaller key #}
keepers as (
    select
        person_id,
        component_key
    from (
        select
            claims.person_id,
            claims.component_key,
            row_number() over (
                partition by claims.person_id
                order by
                    claims.identifier_count desc,
                    groups.first_seen_at nulls last,
                    {{ klant.collate_binary('claims.component_key') }}
            ) as keeper_rank
        from claims
        inner join groups
            on groups.component_key = claims.component_key
    ) as ranked
    where keeper_rank = 1
),

{#- a group that keeps several old ids (new data joined those people) keeps the one first seen
    earliest; the others are merged into it #}
kept_ids as (
    select
        keepers.component_key,
        keepers.person_id,
        row_number() over (
            partition by keepers.component_key
            order by
                old_persons.first_seen_at nulls last,
                {{ klant.collate_binary('keepers.person_id') }}
        ) as survivor_rank
    from keepers
    inner join old_persons
        on old_persons.person_id = keepers.person_id
),

last_issued as (
    select coalesce(max(last_issued_sequence), 0) as sequence
    from previous
),

{#- a group without an old id is a new person: numbered on from the last id issued, in order
    of first sighting, then smallest identifier key #}
new_persons as (
    select
        groups.component_key,
        last_issued.sequence + row_number() over (
            order by
                groups.first_seen_at nulls last,
                {{ klant.collate_binary('groups.component_key') }}
        ) as sequence
    from groups
    cross join last_issued
    left join kept_ids
        on
            kept_ids.component_key = groups.component_key
            and kept_ids.survivor_rank = 1
    where kept_ids.component_key is null
),

group_ids as (
    select
        component_key,
        person_id
    from kept_ids
    where survivor_rank = 1
    union all
    select
        component_key,
        'kp_' || lpad(cast(sequence as {{ dbt.type_string() }}), 10, '0') as person_id
    from new_persons
),

issued as (
    select cast(
        last_issued.sequence + (select count(*) from new_persons) as {{ dbt.type_bigint() }}
    ) as last_issued_sequence
    from last_issued
),

assigned as (
    select
        identifiers.identifier_key,
        group_ids.person_id,
        identifiers.first_seen_at,
        identifiers.previous_person_id,
        case
            when identifiers.previous_person_id is null then 'new'
            when identifiers.previous_person_id = group_ids.person_id then 'kept'
            when merged.person_id is not null then 'merged'
            else 'split'
        end as assignment,
        case
            when identifiers.previous_person_id = group_ids.person_id
                then identifiers.previous_assigned_at
            else {{ build_started_at() }}
        end as assigned_at
    from identifiers
    inner join group_ids
        on group_ids.component_key = identifiers.component_key
    left join kept_ids as merged
        on
            merged.component_key = identifiers.component_key
            and merged.person_id = identifiers.previous_person_id
            and merged.survivor_rank > 1
),

{#- identifiers no longer in any person: replaced by a row without person, then deleted #}
vanished as (
    select
        previous.identifier_key,
        cast(null as {{ dbt.type_string() }}) as person_id,
        previous.first_seen_at,
        previous.person_id as previous_person_id,
        'vanished' as assignment,
        {{ build_started_at() }} as assigned_at
    from previous
    left join identifiers
        on identifiers.identifier_key = previous.identifier_key
    where identifiers.identifier_key is null
),

final as (
    select
        registered.identifier_key,
        registered.person_id,
        registered.first_seen_at,
        registered.previous_person_id,
        registered.assignment,
        registered.assigned_at,
        issued.last_issued_sequence
    from (
        select * from assigned
        union all
        select * from vanished
    ) as registered
    cross join issued
)

select * from final
