{# expects an already normalized (lowercased, trimmed) email #}
{% macro is_valid_email(column) -%}
    coalesce({{ klant.regex_matches(column, '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$') }}, false)
{%- endmacro %}
