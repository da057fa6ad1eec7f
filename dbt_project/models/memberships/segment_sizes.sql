{{
    config(
        materialized='incremental',
        unique_key=['segment_name', 'measured_at'],
        incremental_strategy='delete+insert',
    )
}}

{#- One row per segment and build: its size and who entered and left in that build, so a user
    sees a segment grow or shrink over time. A segment without members still gets its row. #}

{%- set segment_names = klant.segment_nodes() | map(attribute='name') | list %}

with

memberships as (
    select * from {{ ref('segment_memberships') }}
),

{#- the segments of this build, members or not, and a removed segment in the build its last
    members left it #}
segments as (
    {%- for name in segment_names %}
    select cast('{{ name }}' as {{ dbt.type_string() }}) as segment_name
    union
    {%- endfor %}
    select segment_name
    from memberships
    where exited_at = {{ klant.build_started_at() }}
),

counts as (
    select
        segment_name,
        sum(case when exited_at is null then 1 else 0 end) as member_count,
        sum(case when entered_at = {{ klant.build_started_at() }} then 1 else 0 end)
            as entered_count,
        sum(case when exited_at = {{ klant.build_started_at() }} then 1 else 0 end)
            as exited_count
    from memberships
    group by segment_name
),

final as (
    select
        segments.segment_name,
        {{ klant.build_started_at() }} as measured_at,
        cast(coalesce(counts.member_count, 0) as integer) as member_count,
        cast(coalesce(counts.entered_count, 0) as integer) as entered_count,
        cast(coalesce(counts.exited_count, 0) as integer) as exited_count
    from segments
    left join counts
        on counts.segment_name = segments.segment_name
)

select * from final
