{#- The country as typed ("Nederland", "UK") to ISO-2, from a relation shaped like the
    country_aliases seed: matched trimmed and case-insensitively, one country per alias. The
    identifier dictionary (klant.identity.dictionary) gave phones their region hint with the
    same rule, so staging's joins on region find them. -#}
{% macro country_regions(aliases) %}
    select
        lower(trim(alias)) as alias_key,
        min(country_code) as country_code
    from {{ aliases }}
    group by lower(trim(alias))
{% endmacro %}
