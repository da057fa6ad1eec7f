{{
    config(
        materialized='incremental',
        unique_key=['segment_name', 'person_id', 'entered_at'],
        incremental_strategy='delete+insert',
    )
}}

{#- Membership history, kept across builds through {{ this }}: one row per stay of a person in a
    segment. A build writes only what changed: a new stay for who entered (entered_at = this
    build's time) and the closed stay for who left (exited_at = this build's time); a build with
    the same members writes nothing. A segment whose file was removed sees all its members exit. #}

with

current_members as (
    select * from {{ ref('segment_members') }}
),

{% if is_incremental() %}
open_stays as (
    select
        segment_name,
        person_id,
        entered_at
    from {{ this }}
    where exited_at is null
),
{% else %}
open_stays as (
    select
        cast(null as {{ dbt.type_string() }}) as segment_name,
        cast(null as {{ dbt.type_string() }}) as person_id,
        cast(null as timestamp) as entered_at
    where 1 = 0
),
{% endif %}

entered as (
    select
        current_members.segment_name,
        current_members.person_id,
        {{ klant.build_started_at() }} as entered_at,
        cast(null as timestamp) as exited_at
    from current_members
    left join open_stays
        on
            open_stays.segment_name = current_members.segment_name
            and open_stays.person_id = current_members.person_id
    where open_stays.person_id is null
),

exited as (
    select
        open_stays.segment_name,
        open_stays.person_id,
        open_stays.entered_at,
        {{ klant.build_started_at() }} as exited_at
    from open_stays
    left join current_members
        on
            current_members.segment_name = open_stays.segment_name
            and current_members.person_id = open_stays.person_id
    where current_members.person_id is null
),

final as (
    select * from entered
    union all
    select * from exited
)

select * from final
