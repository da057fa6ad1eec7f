{#- One round of connected_components over integer tables edges(src, dst), both directions,
    and labels(node, label) with label <= node. Returns the next labels(node, label). -#}
{% macro connected_components_round(edges, labels) %}
        with neighbour_labels as (
            select
                e.src as node,
                min(l.label) as label
            from {{ edges }} as e
            inner join {{ labels }} as l
                on l.node = e.dst
            group by e.src
        ),

        proposed as (
            select
                l.node,
                least(l.label, coalesce(n.label, l.label)) as label
            from {{ labels }} as l
            left join neighbour_labels as n
                on n.node = l.node
        ),

        {#- a root also takes the smallest label any of its members proposed (hooking) #}
        hooked as (
            select
                l.label as node,
                min(p.label) as label
            from {{ labels }} as l
            inner join proposed as p
                on p.node = l.node
            group by l.label
        ),

        merged as (
            select
                p.node,
                least(p.label, coalesce(h.label, p.label)) as label
            from proposed as p
            left join hooked as h
                on h.node = p.node
        )

        {#- pointer jumping: label := label of label #}
        select
            m.node,
            j.label
        from merged as m
        inner join merged as j
            on j.node = m.label
{% endmacro %}
