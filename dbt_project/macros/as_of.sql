{#- The moment a build measures time against ("days since last order", "in the last 7 days"),
    as a SQL timestamp (UTC): var klant__as_of when given, else the start of the dbt invocation.
    The var is checked against a strict pattern before it reaches SQL, so it cannot carry any. -#}
{% macro as_of() -%}
    {%- set value = var('klant__as_of') -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {{ klant.build_started_at() }}
    {%- else -%}
        {%- set text = value | string | trim -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$', text) -%}
            {{ exceptions.raise_compiler_error(
                "var klant__as_of must look like 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM[:SS]' (UTC), got: "
                ~ text) }}
        {%- endif -%}
        cast('{{ text }}' as timestamp)
    {%- endif -%}
{%- endmacro %}
