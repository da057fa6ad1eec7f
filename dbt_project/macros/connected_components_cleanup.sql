{#- Drops the temporary table that connected_components or connected_components_with_limits
    leaves for the model's final select. Use as the calling model's post_hook. -#}
{% macro connected_components_cleanup(scratch_prefix=none) -%}
    {%- set prefix = scratch_prefix if scratch_prefix is not none else this.identifier ~ '__cc' -%}
    drop table if exists {{ prefix }}_result
{%- endmacro %}
