{#- The select a model puts in its CTE: the result step, read from its temporary table (loop
    mode) or from the CTEs written so far. -#}
{% macro connected_components_sql(state, relation) %}
    {%- if state.can_loop -%}
        {{ return('select * from ' ~ relation) }}
    {%- else -%}
        {%- set keyword = 'with recursive' if state.recursive else 'with' -%}
        {{ return(keyword ~ '\n' ~ state.ctes | join(',\n') ~ '\nselect * from ' ~ relation) }}
    {%- endif -%}
{% endmacro %}
