{#- The keyword that makes a CTE be computed once even when it is read several times
    (`name as materialized (...)`); empty where the warehouse has no such hint. -#}
{% macro cte_materialized() -%}
    {{ return(adapter.dispatch('cte_materialized', 'klant')()) }}
{%- endmacro %}

{% macro default__cte_materialized() -%}
    materialized
{%- endmacro %}

{% macro spark__cte_materialized() -%}
{%- endmacro %}
