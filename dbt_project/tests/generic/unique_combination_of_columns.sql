{#- Fails for every combination of the given columns that occurs more than once
    (a composite primary key test without dbt-utils). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{{ klant.unique_combination_of_columns_sql(model, combination_of_columns) }}
{% endtest %}
