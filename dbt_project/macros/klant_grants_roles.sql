{#- The PostgreSQL group roles by job, named by the klant__*_role vars (set with --vars: the
    published models' grants config in dbt_project.yml repeats these defaults). A name must be
    a plain lowercase identifier: it is written into DDL and into string literals. -#}
{% macro klant_grants_roles() %}
    {%- set roles = {
        'loader': var('klant__loader_role', 'klant_loader'),
        'transformer': var('klant__transformer_role', 'klant_transformer'),
        'publisher': var('klant__publisher_role', 'klant_publisher'),
        'reader': var('klant__reader_role', 'klant_reader'),
    } -%}
    {%- for job, role in roles.items() -%}
        {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', role | string) -%}
            {{ exceptions.raise_compiler_error(
                "klant__" ~ job ~ "_role must be a lowercase SQL identifier, got " ~ role) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(roles) }}
{% endmacro %}
