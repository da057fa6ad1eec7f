{#- Several paths out of one JSON text column, the document parsed once where the database can:
    json_texts() goes in one CTE (as a column, e.g. `context_texts`), json_texts_item() reads one
    path of it in the next, with the same paths list. Each item is exactly json_text(column, path):
    null for a missing key, a JSON null or a non-object on the way, an object or array as its JSON
    text, a number as written. #}
{% macro json_texts(column, paths) -%}
    {{ return(adapter.dispatch('json_texts', 'klant')(column, paths)) }}
{%- endmacro %}

{% macro json_texts_item(parsed, paths, path) -%}
    {%- if path not in paths -%}
        {{ exceptions.raise_compiler_error(
            "json_texts_item: path " ~ path ~ " is not among the paths " ~ paths) }}
    {%- endif -%}
    {{ return(adapter.dispatch('json_texts_item', 'klant')(parsed, paths, path)) }}
{%- endmacro %}

{#- by default the column stays JSON text, and each item is one json_text() of it #}
{% macro default__json_texts(column, paths) -%}
    {{ column }}
{%- endmacro %}

{% macro default__json_texts_item(parsed, paths, path) -%}
    {{ klant.json_text(parsed, path) }}
{%- endmacro %}

{#- DuckDB: json_extract_string() with a list of paths parses the text once and returns the
    list of texts, each as the one-path call would (null for a null column: the list is null) #}
{% macro duckdb__json_texts(column, paths) -%}
    json_extract_string({{ column }}, [
        {%- for path in paths -%}
            '$.{{ path | join('.') }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    ])
{%- endmacro %}

{% macro duckdb__json_texts_item(parsed, paths, path) -%}
    {{ parsed }}[{{ paths.index(path) + 1 }}]
{%- endmacro %}
