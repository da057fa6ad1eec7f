{#- The third-party audiences each profile is in now, from fct_audience_memberships: one row per
    `key` (person_id or visitor_id) with its distinct audience codes, sorted and comma-joined
    (a code held from two providers is listed once), and their number. dim_profiles and
    dim_visitors both show them beside, never inside, the first-party fields. -#}
{% macro profile_audiences(key) -%}
    select
        {{ key }},
        {{ dbt.listagg(
            'audience_code', "', '", 'order by ' ~ klant.collate_binary('audience_code')
        ) }} as dmp_audience_codes,
        count(*) as dmp_audience_count
    from (
        select distinct {{ key }}, audience_code
        from {{ ref('fct_audience_memberships') }}
        where {{ key }} is not null
    ) as profile_codes
    group by {{ key }}
{%- endmacro %}
