{#- One named step: in loop mode `create temporary table <prefix>_<name> as <sql>` (dropping an
    older table of that name first), else a materialized CTE cc_<name>. Returns the name to
    read the step by. Names must be unique within a model. -#}
{% macro connected_components_step(state, name, sql) %}
    {%- if name in state.names -%}
        {{ exceptions.raise_compiler_error("connected_components: step " ~ name ~ " written twice") }}
    {%- endif -%}
    {%- do state.names.append(name) -%}
    {%- if state.can_loop -%}
        {%- set relation = state.prefix ~ '_' ~ name -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- do run_query('create temporary table ' ~ relation ~ ' as ' ~ sql) -%}
        {%- if state.analyze -%}
            {%- do run_query(state.analyze | replace('{relation}', relation)) -%}
        {%- endif -%}
    {%- else -%}
        {%- set relation = 'cc_' ~ name -%}
        {%- do state.ctes.append(relation ~ ' as ' ~ state.materialized ~ ' (' ~ sql ~ '\n)') -%}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}
