{#- dbt run-operation klant_create_roles --target postgres, as a superuser (or a role with
    CREATEROLE that owns the database): the four NOLOGIN group roles, the schemas the project
    uses with their owners, and the grants each job needs, nothing more. Idempotent: roles are
    cluster-wide and kept when they exist; schemas, owners and grants are set again. Run it
    again after adding a schema. Select on each published table comes from the models' grants
    config, as dbt builds it. DuckDB has no roles: there it only says so. -#}
{% macro klant_create_roles() %}
    {{ return(adapter.dispatch('klant_create_roles', 'klant')()) }}
{% endmacro %}

{% macro default__klant_create_roles() %}
    {{ log("klant_create_roles: " ~ target.type ~ " has no roles or grants; nothing to do on "
        ~ "target " ~ target.name ~ ".", info=True) }}
{% endmacro %}

{% macro postgres__klant_create_roles() %}
    {%- set roles = klant.klant_grants_roles() -%}
    {%- set schemas = klant.klant_grants_schemas() -%}
    {%- set loader = adapter.quote(roles.loader) -%}
    {%- set transformer = adapter.quote(roles.transformer) -%}
    {%- set publisher = adapter.quote(roles.publisher) -%}
    {%- set reader = adapter.quote(roles.reader) -%}
    {%- set database = adapter.quote(target.database) -%}
    {%- set sql -%}
        {% for role in roles.values() %}
        do $$
        begin
            create role {{ adapter.quote(role) }} nologin;
        exception when duplicate_object then
            null;
        end
        $$;
        {% endfor %}
        grant connect on database {{ database }}
            to {{ loader }}, {{ transformer }}, {{ publisher }}, {{ reader }};
        {# renaming a schema (the publication swap) needs create on the database #}
        grant create on database {{ database }} to {{ publisher }};

        {% for schema in schemas.raw %}
        create schema if not exists {{ adapter.quote(schema) }} authorization {{ loader }};
        alter schema {{ adapter.quote(schema) }} owner to {{ loader }};
        revoke all on schema {{ adapter.quote(schema) }} from public, {{ reader }};
        grant usage, create on schema {{ adapter.quote(schema) }} to {{ loader }};
        {# tables that exist, and tables the loader (or this role) creates later #}
        grant select, insert on all tables in schema {{ adapter.quote(schema) }} to {{ loader }};
        alter default privileges in schema {{ adapter.quote(schema) }}
            grant select, insert on tables to {{ loader }};
        grant usage on schema {{ adapter.quote(schema) }} to {{ transformer }};
        grant select on all tables in schema {{ adapter.quote(schema) }} to {{ transformer }};
        alter default privileges in schema {{ adapter.quote(schema) }}
            grant select on tables to {{ transformer }};
        alter default privileges for role {{ loader }} in schema {{ adapter.quote(schema) }}
            grant select on tables to {{ transformer }};
        {% endfor %}

        {% for schema in schemas.build %}
        create schema if not exists {{ adapter.quote(schema) }} authorization {{ transformer }};
        {% if schema != 'public' %}
        alter schema {{ adapter.quote(schema) }} owner to {{ transformer }};
        revoke all on schema {{ adapter.quote(schema) }} from public, {{ reader }};
        {% endif %}
        grant usage, create on schema {{ adapter.quote(schema) }} to {{ transformer }};
        {% endfor %}

        {% for schema in schemas.published %}
        create schema if not exists {{ adapter.quote(schema) }} authorization {{ publisher }};
        alter schema {{ adapter.quote(schema) }} owner to {{ publisher }};
        grant usage, create on schema {{ adapter.quote(schema) }} to {{ transformer }};
        grant usage on schema {{ adapter.quote(schema) }} to {{ reader }};
        {% endfor %}
    {%- endset -%}
    {% do run_query(sql) %}
    {{ log("klant_create_roles: roles " ~ roles.values() | join(", ") ~ " in database "
        ~ target.database ~ "; raw " ~ schemas.raw | join(", ") ~ " (" ~ roles.loader
        ~ "), build " ~ schemas.build | join(", ") ~ " (" ~ roles.transformer ~ "), published "
        ~ schemas.published | join(", ") ~ " (" ~ roles.publisher ~ ", read by "
        ~ roles.reader ~ ")", info=True) }}
{% endmacro %}
