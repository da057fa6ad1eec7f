{#- Text compared and ordered by its bytes (code points), whatever the database's collation, so
    that min() and order by give the same answer on every warehouse. Person ids depend on it. -#}
{% macro collate_binary(expression) -%}
    {{ return(adapter.dispatch('collate_binary', 'klant')(expression)) }}
{%- endmacro %}

{#- DuckDB and Spark compare text by code point unless told otherwise #}
{% macro default__collate_binary(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro postgres__collate_binary(expression) -%}
    ({{ expression }} collate "C")
{%- endmacro %}
