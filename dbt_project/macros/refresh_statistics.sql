{#- The statement that gathers planner statistics for a table just written, or '' where the
    database does it by itself. PostgreSQL never auto-analyzes temporary tables, and without
    statistics it plans the label-propagation joins as nested loops (ten times slower). -#}
{% macro refresh_statistics(relation) -%}
    {{ return(adapter.dispatch('refresh_statistics', 'klant')(relation)) }}
{%- endmacro %}

{% macro default__refresh_statistics(relation) -%}
{%- endmacro %}

{% macro postgres__refresh_statistics(relation) -%}
    analyze {{ relation }}
{%- endmacro %}
