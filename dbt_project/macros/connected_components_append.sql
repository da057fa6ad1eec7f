{#- Rows added to an earlier step: in loop mode an insert into its table (the same name comes
    back), else a new CTE cc_<name> holding the earlier rows and the new ones. -#}
{% macro connected_components_append(state, relation, name, sql) %}
    {%- if state.can_loop -%}
        {%- do run_query('insert into ' ~ relation ~ ' ' ~ sql) -%}
        {%- if state.analyze -%}
            {%- do run_query(state.analyze | replace('{relation}', relation)) -%}
        {%- endif -%}
        {{ return(relation) }}
    {%- else -%}
        {{ return(klant.connected_components_step(
            state, name,
            'select * from ' ~ relation ~ ' union all select * from (' ~ sql ~ '\n) as appended'
        )) }}
    {%- endif -%}
{% endmacro %}
