{#- on-run-end: the reader may look into every published schema (select on the tables comes
    from the models' grants config). Only where the running role may grant it: a schema the
    publisher owns got its grant from klant_create_roles; one dbt just created is the running
    role's own. DuckDB has no roles. -#}
{% macro klant_grants_schema_usage() %}
    {{ return(adapter.dispatch('klant_grants_schema_usage', 'klant')()) }}
{% endmacro %}

{% macro default__klant_grants_schema_usage() %}
{% endmacro %}

{% macro postgres__klant_grants_schema_usage() %}
    {%- if execute -%}
        {%- set published = klant.klant_grants_schemas().published -%}
        {%- set reader = klant.klant_grants_roles().reader -%}
do $$
declare
    published_schema text;
begin
    for published_schema in
        select nspname from pg_namespace
        where nspname in ('{{ published | join("', '") }}')
            and has_schema_privilege(nspname, 'USAGE WITH GRANT OPTION')
    loop
        execute format('grant usage on schema %I to %I', published_schema, '{{ reader }}');
    end loop;
end
$$
    {%- endif -%}
{% endmacro %}
