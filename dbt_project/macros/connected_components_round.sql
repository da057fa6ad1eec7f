{#- One round of label propagation that only looks at the frontier: the nodes whose label
    changed in the last round. Inputs: edges(src, dst) in both directions, labels(node, label)
    with label <= node for every node, frontier(node, label). Returns the nodes whose label
    goes down this round, with their new label (no rows = converged).

    A node next to a frontier node takes its label when smaller; the node's old root takes it
    too (hooking), and every node whose label, or whose label's label, moved follows its
    pointer twice (pointer jumping), so a whole tree moves at once and long chains need
    O(log n) rounds. Every label change puts the node in the next frontier, so when a round
    changes nothing, both ends of every edge carry the same label: the component's smallest
    node. Work per round grows with the frontier and its edges, not with the graph. -#}
{% macro connected_components_round(edges, labels, frontier) %}
        with neighbour_labels as (
            select
                e.src as node,
                min(f.label) as label
            from {{ frontier }} as f
            inner join {{ edges }} as e
                on e.dst = f.node
            group by e.src
        ),

        improved as (
            select
                l.node,
                l.label as old_label,
                n.label
            from neighbour_labels as n
            inner join {{ labels }} as l
                on l.node = n.node
            where n.label < l.label
        ),

        proposed as (
            select
                node,
                min(label) as label
            from (
                select node, label from improved
                union all
                select old_label as node, label from improved
            ) as proposals
            group by node
        ),

        hooked as (
            select
                p.node,
                p.label
            from proposed as p
            inner join {{ labels }} as l
                on l.node = p.node
            where p.label < l.label
        ),

        first_hop as (
            select
                l.node,
                coalesce(h.label, l.label) as label
            from {{ labels }} as l
            left join hooked as h
                on h.node = l.node
            where
                h.node is not null
                or l.label in (select hooked.node from hooked)
                or l.label in (select {{ frontier }}.node from {{ frontier }})
        ),

        jumped as (
            select
                f.node,
                coalesce(h.label, l.label) as label
            from first_hop as f
            inner join {{ labels }} as l
                on l.node = f.label
            left join hooked as h
                on h.node = f.label
        )

        select
            j.node,
            j.label
        from jumped as j
        inner join {{ labels }} as l
            on l.node = j.node
        where j.label < l.label
{% endmacro %}
