{#- Phone text to E.164 ("+" and digits) by string rules, without a validity check; only for
    values outside the exports (blocklist entries): export phones use the identifier dictionary.
    calling_code: a SQL expression giving the record's country calling code (e.g. a column
    from the country_aliases seed); null or omitted falls back to var klant__default_country_code.
    Steps: trim; drop the "(0)" trunk prefix; strip spaces, dashes, dots, slashes and
    parentheses; then a leading "+" stays, "00" becomes "+", a single leading "0" becomes
    "+<calling code>", digits that already start with the calling code get a "+", and any other
    digits get "+<calling code>" in front. -#}
{% macro normalize_phone(column, calling_code=none) -%}
    {%- set default_code = "'" ~ var('klant__default_country_code') ~ "'" -%}
    {%- set cc = 'coalesce(' ~ calling_code ~ ', ' ~ default_code ~ ')' if calling_code is not none else default_code -%}
    {%- set digits = "regexp_replace(replace(trim(" ~ column ~ "), '(0)', ''), '[[:space:]./()-]', '', 'g')" -%}
    case
        when nullif(trim({{ column }}), '') is null then null
        when {{ digits }} like '+%' then {{ digits }}
        when {{ digits }} like '00%' then '+' || substr({{ digits }}, 3)
        when {{ digits }} like '0%' then '+' || {{ cc }} || substr({{ digits }}, 2)
        when substr({{ digits }}, 1, length({{ cc }})) = {{ cc }} then '+' || {{ digits }}
        else '+' || {{ cc }} || {{ digits }}
    end
{%- endmacro %}
