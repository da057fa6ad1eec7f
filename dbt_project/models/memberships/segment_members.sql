{#- Every segment's members in this build, read from the segment tables themselves: each model
    in models/segments/ (tag `segment`) is found in the project graph when the model runs, so a
    new segment file needs no change here. dbt cannot infer these dependencies (the graph is empty
    while it parses), so the rollup models run in their own dbt invocation after the segments
    (Dagster orders the two; from the command line: build `--exclude tag:segment_rollup`, then
    `--select tag:segment_rollup`). -#}
{%- set segments = klant.segment_nodes() %}

with

{% for node in segments %}
{{ node.name }} as (
    select
        cast('{{ node.name }}' as {{ dbt.type_string() }}) as segment_name,
        cast(person_id as {{ dbt.type_string() }}) as person_id
    from {{ adapter.quote(node.schema) }}.{{ adapter.quote(node.alias or node.name) }}
    where person_id is not null
),
{% endfor %}

unioned as (
    {%- for node in segments %}
    select * from {{ node.name }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if segments | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_name,
        cast(null as {{ dbt.type_string() }}) as person_id
    where 1 = 0
    {%- endif %}
),

final as (
    select
        segment_name,
        person_id
    from unioned
)

select * from final
