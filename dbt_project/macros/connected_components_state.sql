{#- The scratch state shared by the connected_components macros while they write one model's
    SQL: whether the database loop can run, the names made so far and the rounds taken.
    Loop mode (dbt run/build/retry of the model itself) runs every step with run_query into
    temporary tables named <prefix>_<step>; elsewhere (unit tests, dbt compile/show) every
    step becomes a materialized CTE and label propagation a recursive CTE. -#}
{% macro connected_components_state(scratch_prefix=none) %}
    {%- set loop_commands = ['run', 'build', 'retry'] -%}
    {%- set can_loop = execute
        and model.resource_type != 'unit_test'
        and flags.WHICH in loop_commands -%}
    {%- set prefix = scratch_prefix if scratch_prefix is not none else this.identifier ~ '__cc' -%}
    {{ return(namespace(
        can_loop=can_loop,
        prefix=prefix,
        ctes=[],
        names=[],
        rounds=[],
        jumps=[],
        recursive=false,
        materialized=klant.cte_materialized() | trim,
        analyze=(klant.refresh_statistics('{relation}') | trim) if can_loop else '',
        max_rounds=var('klant__identity_max_rounds') | int
    )) }}
{% endmacro %}
