{#- The query of the generic test unique_combination_of_columns (tests/generic). -#}
{% macro unique_combination_of_columns_sql(model, combination_of_columns) %}
    {{ return(adapter.dispatch('unique_combination_of_columns_sql', 'klant')(model, combination_of_columns)) }}
{% endmacro %}

{% macro default__unique_combination_of_columns_sql(model, combination_of_columns) %}

with

duplicates as (
    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
)

select * from duplicates

{% endmacro %}

{#- DuckDB: grouping on one 64-bit hash of the columns is two to three times faster than on the
    columns (text, mostly) at tens of millions of rows. A hash shared by two rows is only a
    suspect: the rows with a suspect hash are grouped again on the columns themselves, so a
    collision never fails the test and a real duplicate always does (equal columns, nulls
    included, give equal hashes). #}
{% macro duckdb__unique_combination_of_columns_sql(model, combination_of_columns) %}
{%- set columns = combination_of_columns | join(', ') -%}

with

suspect_hashes as (
    select hash({{ columns }}) as row_hash
    from {{ model }}
    group by hash({{ columns }})
    having count(*) > 1
),

duplicates as (
    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as occurrences
    from {{ model }}
    where hash({{ columns }}) in (select row_hash from suspect_hashes)
    group by {{ columns }}
    having count(*) > 1
)

select * from duplicates

{% endmacro %}
