{# expects an already normalized phone (see normalize_phone) #}
{% macro is_valid_phone(column) -%}
    coalesce({{ klant.regex_matches(column, '^\+[0-9]{8,15}$') }}, false)
{%- endmacro %}
