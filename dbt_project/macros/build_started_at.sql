{#- The start of the dbt invocation (UTC) as a SQL timestamp: the one build time a build writes
    into its tables, the same in every model. Unit tests override it. -#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
