{#-
    Connected components of an undirected graph given as an edge relation (node_a, node_b).
    Returns a select of (node_key, component_key): component_key is the smallest node_key of
    the component. A node that should stand alone needs a self-edge (node, node).

    How: node keys get integer ids from a dense_rank dictionary (never hash(): DuckDB's hash
    collides on short strings), every node starts as its own label, and
    connected_components_round runs until no label changes: min-label propagation from the
    frontier (the nodes that changed last round), hooking and pointer jumping, so long chains
    converge in about log(n) rounds. It never stops silently: past var
    klant__identity_max_rounds the build fails. The model drops the result table with a
    post_hook calling connected_components_cleanup(). Where no database loop can run (unit
    tests, `dbt compile`, `dbt show`) a recursive CTE gives the same labels.
    connected_components_with_limits is the identity graph's version, with rules.
-#}
{% macro connected_components(edges, node_a, node_b, scratch_prefix=none) %}
    {%- set state = klant.connected_components_state(scratch_prefix) -%}

    {%- set dictionary = klant.connected_components_step(state, 'dictionary', "
        select
            node_key,
            dense_rank() over (order by " ~ klant.collate_binary('node_key') ~ ") as node_id
        from (
            select " ~ node_a ~ " as node_key from " ~ edges ~ "
            union
            select " ~ node_b ~ " as node_key from " ~ edges ~ "
        ) as nodes
        where node_key is not null
    ") -%}

    {%- set integer_edges = klant.connected_components_step(state, 'edges', "
        select a.node_id as src, b.node_id as dst
        from " ~ edges ~ " as e
        inner join " ~ dictionary ~ " as a on a.node_key = e." ~ node_a ~ "
        inner join " ~ dictionary ~ " as b on b.node_key = e." ~ node_b ~ "
        where a.node_id <> b.node_id
        union
        select b.node_id as src, a.node_id as dst
        from " ~ edges ~ " as e
        inner join " ~ dictionary ~ " as a on a.node_key = e." ~ node_a ~ "
        inner join " ~ dictionary ~ " as b on b.node_key = e." ~ node_b ~ "
        where a.node_id <> b.node_id
    ") -%}

    {%- set labels = klant.connected_components_step(state, 'labels',
        'select node_id as node, node_id as label from ' ~ dictionary
    ) -%}
    {%- set frontier = klant.connected_components_step(state, 'frontier',
        'select node, label from ' ~ labels
    ) if state.can_loop else none -%}
    {%- set final_labels = klant.connected_components_propagate(
        state, integer_edges, labels, frontier, 'cc'
    ) -%}

    {%- set result = klant.connected_components_step(state, 'result', "
        select d.node_key, c.node_key as component_key
        from " ~ final_labels ~ " as l
        inner join " ~ dictionary ~ " as d on d.node_id = l.node
        inner join " ~ dictionary ~ " as c on c.node_id = l.label
    ") -%}

    {%- if state.can_loop -%}
        {%- set size = run_query(
            'select (select count(*) from ' ~ dictionary ~ '), (select count(*) from ' ~ integer_edges ~ ')'
        ).rows[0] -%}
        {%- do klant.connected_components_drop(state, [dictionary, integer_edges, labels]) -%}
        {%- do log(
            "connected_components: " ~ this ~ " converged after " ~ state.rounds[0] ~ " rounds and "
            ~ state.jumps[0] ~ " pointer-jumping steps (" ~ size[0] ~ " nodes, " ~ (size[1] // 2)
            ~ " edges)", info=True
        ) -%}
    {%- endif -%}
    {{ klant.connected_components_sql(state, result) }}
{% endmacro %}
