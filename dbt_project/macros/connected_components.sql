{#-
    Connected components of an undirected graph given as an edge relation (node_a, node_b).
    Returns a select of (node_key, component_key): component_key is the smallest node_key of
    the component. A node that should stand alone needs a self-edge (node, node).

    How: node keys get integer ids from a dense_rank dictionary (never hash(): DuckDB's hash
    collides on short strings). Every node starts with its own id as label; each round every
    node takes the smallest label among itself and its neighbours, each root takes the smallest
    label its members proposed, and pointer jumping (label := label of label) lets long chains
    converge in about log(n) rounds. The loop runs with run_query until no label changes and
    raises a compiler error past var klant__identity_max_rounds: it never stops silently.
    Scratch tables are temporary tables named <scratch_prefix>_*; the model drops the two
    the final select reads with a post_hook calling connected_components_cleanup().

    Where no database loop can run (unit tests, `dbt compile`, `dbt show`) the same round SQL
    is written out klant__identity_unrolled_rounds times as plain CTEs.
-#}
{% macro connected_components(edges, node_a, node_b, scratch_prefix=none) %}
    {%- set prefix = scratch_prefix if scratch_prefix is not none else this.identifier ~ '__cc' -%}
    {%- set loop_commands = ['run', 'build', 'retry'] -%}
    {%- set can_loop = execute
        and model.resource_type != 'unit_test'
        and flags.WHICH in loop_commands -%}

    {%- set t_dict = 'cc_dictionary' if not can_loop else prefix ~ '_dictionary' -%}

    {%- set dictionary_sql -%}
        select
            node_key,
            dense_rank() over (order by node_key) as node_id
        from (
            select {{ node_a }} as node_key from {{ edges }}
            union
            select {{ node_b }} as node_key from {{ edges }}
        ) as nodes
        where node_key is not null
    {%- endset -%}

    {%- set edges_sql -%}
        select
            a.node_id as src,
            b.node_id as dst
        from {{ edges }} as e
        inner join {{ t_dict }} as a
            on a.node_key = e.{{ node_a }}
        inner join {{ t_dict }} as b
            on b.node_key = e.{{ node_b }}
        where a.node_id <> b.node_id
        union
        select
            b.node_id as src,
            a.node_id as dst
        from {{ edges }} as e
        inner join {{ t_dict }} as a
            on a.node_key = e.{{ node_a }}
        inner join {{ t_dict }} as b
            on b.node_key = e.{{ node_b }}
        where a.node_id <> b.node_id
    {%- endset -%}


    {%- if not can_loop -%}
        {%- set rounds = var('klant__identity_unrolled_rounds') | int %}
    with cc_dictionary as (
        {{ dictionary_sql }}
    ),

    cc_edges as (
        {{ edges_sql }}
    ),

    cc_labels_0 as (
        select node_id as node, node_id as label from cc_dictionary
    ),
        {%- for i in range(1, rounds + 1) %}

    cc_labels_{{ i }} as (
        {{ klant.connected_components_round('cc_edges', 'cc_labels_' ~ (i - 1)) }}
    ),
        {%- endfor %}

    cc_final as (
        select
            d.node_key,
            c.node_key as component_key
        from cc_labels_{{ rounds }} as l
        inner join cc_dictionary as d
            on d.node_id = l.node
        inner join cc_dictionary as c
            on c.node_id = l.label
    )

    select * from cc_final
    {%- else -%}
        {%- set max_rounds = var('klant__identity_max_rounds') | int -%}
        {%- set t_edges = prefix ~ '_edges' -%}
        {%- set t_labels = prefix ~ '_labels' -%}
        {%- set t_next = prefix ~ '_next' -%}

        {%- do run_query(klant.connected_components_cleanup(prefix)) -%}
        {%- do run_query('drop table if exists ' ~ t_edges) -%}
        {%- do run_query('drop table if exists ' ~ t_next) -%}
        {%- do run_query('create temporary table ' ~ t_dict ~ ' as ' ~ dictionary_sql) -%}
        {%- do run_query('create temporary table ' ~ t_edges ~ ' as ' ~ edges_sql) -%}
        {%- do run_query('create temporary table ' ~ t_labels ~ ' as select node_id as node, node_id as label from ' ~ t_dict) -%}

        {%- set size = run_query(
            'select (select count(*) from ' ~ t_dict ~ '), (select count(*) from ' ~ t_edges ~ ')'
        ).rows[0] -%}
        {%- set state = namespace(rounds=0, converged=false) -%}
        {%- for i in range(max_rounds) -%}
            {%- if not state.converged -%}
            {%- do run_query(
                'create temporary table ' ~ t_next ~ ' as '
                ~ klant.connected_components_round(t_edges, t_labels)
            ) -%}
            {%- set changed = run_query(
                'select count(*) from ' ~ t_next ~ ' as n inner join ' ~ t_labels
                ~ ' as l on l.node = n.node where n.label <> l.label'
            ).columns[0].values()[0] | int -%}
            {%- do run_query('drop table ' ~ t_labels) -%}
            {%- do run_query('alter table ' ~ t_next ~ ' rename to ' ~ t_labels) -%}
            {%- set state.rounds = i + 1 -%}
            {%- if changed == 0 -%}
                {%- set state.converged = true -%}
            {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do run_query('drop table if exists ' ~ t_edges) -%}

        {%- if not state.converged -%}
            {{ exceptions.raise_compiler_error(
                "connected_components on " ~ edges ~ " did not converge within "
                ~ max_rounds ~ " rounds (var klant__identity_max_rounds); "
                ~ size[0] ~ " nodes, " ~ (size[1] // 2) ~ " edges"
            ) }}
        {%- endif -%}
        {%- do log(
            "connected_components: " ~ this ~ " converged after " ~ state.rounds ~ " rounds ("
            ~ size[0] ~ " nodes, " ~ (size[1] // 2) ~ " edges)", info=True
        ) %}
    select
        d.node_key,
        c.node_key as component_key
    from {{ t_labels }} as l
    inner join {{ t_dict }} as d
        on d.node_id = l.node
    inner join {{ t_dict }} as c
        on c.node_id = l.label
    {%- endif -%}
{% endmacro %}
