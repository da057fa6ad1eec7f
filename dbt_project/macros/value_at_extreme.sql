{#- An aggregate: `value` of the row whose `order_by` (a list of SQL expressions, compared in
    order, each ascending, or each descending with descending=true) comes first in the group,
    null included: the same row `row_number() over (... order by <order_by>) = 1` picks. The
    expressions must set the rows of a group in one order without ties (end with a unique key)
    and be non-null; wrap text keys in klant.collate_binary as in an order by. `where`: only the
    rows meeting this condition count (null when none does). One aggregate in the group by
    replaces a window and a join back. -#}
{% macro value_at_extreme(value, order_by, descending=false, where=none) -%}
    {{ return(adapter.dispatch('value_at_extreme', 'klant')(value, order_by, descending, where)) }}
{%- endmacro %}

{#- PostgreSQL: the first element of the values in that order #}
{% macro default__value_at_extreme(value, order_by, descending=false, where=none) -%}
    (array_agg({{ value }} order by
        {%- for expression in order_by %}
        {{ expression }}{{ ' desc' if descending }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    ){{ ' filter (where ' ~ where ~ ')' if where }})[1]
{%- endmacro %}

{#- DuckDB: arg_min / arg_max on the key, several keys as one struct (compared field by field),
    the _null variants so that a null value on the first row is the answer rather than skipped #}
{% macro duckdb__value_at_extreme(value, order_by, descending=false, where=none) -%}
    {{ 'arg_max_null' if descending else 'arg_min_null' }}({{ value }},
    {%- if order_by | length == 1 %} {{ order_by[0] }}
    {%- else %} struct_pack(
        {%- for expression in order_by %}
        k{{ loop.index }} := {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
    {%- endif -%}
    ){{ ' filter (where ' ~ where ~ ')' if where }}
{%- endmacro %}
