{#- the fields of the golden record, each with a row in the profile_survivorship seed -#}
{%- set text_fields = [
    'first_name', 'last_name', 'email', 'phone', 'street', 'postal_code', 'city', 'country',
    'company', 'lifecycle_stage',
] -%}
{%- set consent_fields = ['consent_email', 'consent_advertising', 'consent_personalization'] -%}

with

persons as (
    select * from {{ ref('int_identifiers_registered') }}
),

ranked_values as (
    select * from {{ ref('int_profile_values_ranked') }}
),

{#- the persons of dim_person_identifiers: every identifier in the registry belongs to one #}
person_ids as (
    select distinct person_id from persons
),

winning_values as (
    select * from ranked_values
    where value_rank = 1
),

pivoted as (
    select
        person_id,
        {%- for field in text_fields + consent_fields %}
        max(case when attribute = '{{ field }}' then attribute_value end) as {{ field }},
        max(case when attribute = '{{ field }}' then source end) as {{ field }}_source,
        max(case when attribute = '{{ field }}' then observed_at end) as {{ field }}_updated_at
        {{- ',' if not loop.last }}
        {%- endfor %}
    from winning_values
    group by person_id
),

final as (
    select
        person_ids.person_id,
        {%- for field in text_fields %}
        pivoted.{{ field }},
        pivoted.{{ field }}_source,
        pivoted.{{ field }}_updated_at,
        {%- endfor %}
        {%- for field in consent_fields %}
        case pivoted.{{ field }}
            when 'true' then true
            when 'false' then false
        end as {{ field }},
        pivoted.{{ field }}_source,
        pivoted.{{ field }}_updated_at{{ ',' if not loop.last }}
        {%- endfor %}
    from person_ids
    left join pivoted
        on pivoted.person_id = person_ids.person_id
)

select * from final
