{#- on-run-start: published tables are granted to the reader and publisher roles as they are
    built, so a PostgreSQL build stops before its first model when the roles are missing,
    rather than after an hour with a "role does not exist". DuckDB has no roles. -#}
{% macro klant_grants_check_roles() %}
    {{ return(adapter.dispatch('klant_grants_check_roles', 'klant')()) }}
{% endmacro %}

{% macro default__klant_grants_check_roles() %}
{% endmacro %}

{% macro postgres__klant_grants_check_roles() %}
    {%- if execute and flags.WHICH in ['run', 'build', 'retry'] -%}
        {%- set roles = klant.klant_grants_roles().values() | list -%}
        {%- set found = run_query(
            "select rolname from pg_roles where rolname in ('" ~ roles | join("', '") ~ "')"
        ).columns[0].values() -%}
        {%- set missing = roles | reject('in', found) | list -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "PostgreSQL roles " ~ missing | join(", ") ~ " do not exist in this cluster. Create "
                ~ "them first, as a superuser: dbt run-operation klant_create_roles --target "
                ~ target.name ~ " (see the README, PostgreSQL roles and secrets).") }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
