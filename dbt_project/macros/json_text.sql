{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'klant')(column, path)) }}
{%- endmacro %}

{# path is a list of object keys, e.g. ['context', 'page', 'path'] #}
{% macro default__json_text(column, path) -%}
    (cast({{ column }} as json) #>> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_text(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path | join('.') }}')
{%- endmacro %}

{% macro spark__json_text(column, path) -%}
    get_json_object({{ column }}, '$.{{ path | join('.') }}')
{%- endmacro %}
