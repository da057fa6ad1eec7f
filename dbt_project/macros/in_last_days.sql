{#- True when a timestamp falls within the `days` days up to "now" (klant.as_of()), both ends
    included: the window a segment such as "added to the cart in the last 7 days" means. -#}
{% macro in_last_days(column, days) -%}
    ({{ column }} >= {{ dbt.dateadd('day', -days, klant.as_of()) }}
        and {{ column }} <= {{ klant.as_of() }})
{%- endmacro %}
