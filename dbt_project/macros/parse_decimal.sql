{# text to numeric(18, 2), null when the text is not a plain dot-decimal number #}
{% macro parse_decimal(column) -%}
    case
        when {{ klant.regex_matches('trim(' ~ column ~ ')', '^-?[0-9]+(\.[0-9]+)?$') }}
            then cast(trim({{ column }}) as numeric(18, 2))
    end
{%- endmacro %}
