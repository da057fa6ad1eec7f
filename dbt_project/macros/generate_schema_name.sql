{# Custom schemas are used as-is (staging, intermediate, marts, segments), without the
   target-schema prefix dbt adds by default, so every target exposes the same names. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
