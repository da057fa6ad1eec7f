{# text to integer, null when the text is not a plain integer #}
{% macro parse_integer(column) -%}
    case
        when {{ klant.regex_matches('trim(' ~ column ~ ')', '^-?[0-9]{1,9}$') }}
            then cast(trim({{ column }}) as integer)
    end
{%- endmacro %}
