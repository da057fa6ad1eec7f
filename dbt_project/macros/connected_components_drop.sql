{#- Drops the temporary tables of steps no longer needed (loop mode); CTEs need nothing. -#}
{% macro connected_components_drop(state, relations) %}
    {%- if state.can_loop -%}
        {%- for relation in relations -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
