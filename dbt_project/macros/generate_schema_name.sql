{# Custom schemas are used as-is (staging, intermediate, marts, segments), without the
   target-schema prefix dbt adds by default, so every target exposes the same names.
   var klant__schema_prefix (empty by default) puts a whole build beside the real one: the
   erasure step builds the identity graph into privacy_scratch_* schemas that way. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = var('klant__schema_prefix', '') -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ prefix ~ (custom_schema_name | trim) }}
    {%- endif -%}
{%- endmacro %}
