{{
    config(
        materialized='incremental',
        incremental_strategy='append',
    )
}}

{#- Appended by every build that merges persons: an id, once merged, never comes back (ids are
    never issued twice), so each old id has one row. #}

with

registry as (
    select * from {{ ref('int_identifiers_registered') }}
),

merged as (
    select
        previous_person_id as old_person_id,
        person_id as surviving_person_id,
        min(assigned_at) as merged_at,
        count(*) as identifiers_moved
    from registry
    where assignment = 'merged'
    group by previous_person_id, person_id
),

first_seen as (
    select
        previous_person_id as person_id,
        min(first_seen_at) as first_seen_at
    from registry
    where previous_person_id is not null
    group by previous_person_id
),

final as (
    select
        merged.old_person_id,
        merged.surviving_person_id,
        merged.merged_at,
        'new records joined ' || merged.old_person_id || ' (first seen '
        || coalesce(cast(cast(old_seen.first_seen_at as date) as {{ dbt.type_string() }}), 'unknown')
        || ') and ' || merged.surviving_person_id || ' (first seen '
        || coalesce(cast(cast(surviving_seen.first_seen_at as date) as {{ dbt.type_string() }}), 'unknown')
        || '); the person first seen earliest keeps its id' as reason,
        merged.identifiers_moved
    from merged
    left join first_seen as old_seen
        on old_seen.person_id = merged.old_person_id
    left join first_seen as surviving_seen
        on surviving_seen.person_id = merged.surviving_person_id
    {% if is_incremental() %}
    where merged.old_person_id not in (select old_person_id from {{ this }})
    {% endif %}
)

select * from final
