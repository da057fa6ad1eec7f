{#-
    The identity graph's connected components under per-type limits, Segment style: the links
    of stronger identifier types are in place before weaker ones are judged, and a weaker
    identifier or link that would put more identifiers of some type into one group than that
    type's limit is dropped instead of merging the group.

    edges: one row per undirected link (identifier_id_a, identifier_id_b: integer node ids;
    identifier_type_a, identifier_type_b; first_observed_at), including a self-link (a, a)
    for every node, which gives the node its type and its first sighting. rules:
    (identifier_type, priority, max_per_person); priority 1 is the strongest, a null limit
    means none, a type without a rule is weakest and unlimited.

    Levels are the distinct priorities, strongest first; a link's level is its weaker end's.
    Before level k the groups (components) of the links kept so far are known. Then:
    1. ambiguous_identifier: each level-k identifier joined with the groups its level-k links
       touch, plus itself, must stay within every limit, else it is dropped with all its
       links (one e-mail touching the groups of 200 user_ids; a device touching two).
    2. The surviving level-k links are added and labels propagated from the old groups.
    3. ambiguous_link: in a group still over a limit (level-k identifiers each fine alone),
       the links between two level-k identifiers are dropped, and the level is redone.
    4. ambiguous_group: in a group still over the limit of a stronger type, every level-k
       identifier is dropped (each may be the bridge); over_limit: in a group over the limit
       of a level-k type, the identifiers of that type past the limit, by first sighting, are
       dropped. The level is redone; it is now within every limit.
    Returns one row per link: node_a, node_b (a <= b), level, is_kept, component_id (the
    smallest node id of its group, for kept links), drop_stage, dropped_node (the identifier
    dropped, when that dropped the link), limit_type, limit_count, limit_max, groups_touched,
    and link_group: the smallest node id of the link's component over all links, kept and
    dropped alike (the groups that dropped links join). Nothing outside a link group can change
    what the rules decide inside it, which is what lets a caller recompute only the link groups
    that changed.

    scope (optional): a relation with one column, node, closed under the links (every link
    has both ends in it or neither: whole link groups). Only its nodes and links are computed;
    levels are still ranked over every node of edges, so a link's level is the one a run over
    all of them gives.

    Label propagation is connected_components_propagate (frontier, hooking, pointer jumping;
    fails the build past var klant__identity_max_rounds). The groups before level k are
    settled, so a level's propagation runs on its own surviving links alone, each end standing
    for its group (the group's label, the smallest node id in it) or, new at this level, for
    itself; the labels that come out (the smallest of the groups and new identifiers joined)
    are then handed down to every member. The propagation never walks the links kept at
    earlier levels again. The model drops the result table with a post_hook calling
    connected_components_cleanup().
-#}
{% macro connected_components_with_limits(edges, rules, scratch_prefix=none, scope=none) %}
    {%- set state = klant.connected_components_state(scratch_prefix) -%}
    {%- set t_string = dbt.type_string() -%}
    {%- set t_bigint = dbt.type_bigint() -%}

    {%- set sql -%}
        select * from (
            select
                n.node,
                n.identifier_type,
                n.first_seen_at,
                dense_rank() over (order by coalesce(r.priority, 1000000)) as level,
                r.max_per_person
            from (
                select
                    identifier_id_a as node,
                    min(identifier_type_a) as identifier_type,
                    min(first_observed_at) as first_seen_at
                from {{ edges }}
                where identifier_id_a = identifier_id_b
                group by identifier_id_a
            ) as n
            left join {{ rules }} as r
                on r.identifier_type = n.identifier_type
        ) as ranked
        {%- if scope is not none %}
        where node in (select node from {{ scope }})
        {%- endif %}
    {%- endset -%}
    {%- set nodes = klant.connected_components_step(state, 'nodes', sql) -%}

    {%- set sql -%}
        select distinct identifier_type, level, max_per_person
        from {{ nodes }}
        where max_per_person is not null
    {%- endset -%}
    {%- set limits = klant.connected_components_step(state, 'limits', sql) -%}

    {%- set sql -%}
        select
            e.node_a,
            e.node_b,
            greatest(a.level, b.level) as level
        from (
            select distinct
                least(identifier_id_a, identifier_id_b) as node_a,
                greatest(identifier_id_a, identifier_id_b) as node_b
            from {{ edges }}
            {%- if scope is not none %}
            where identifier_id_a in (select node from {{ scope }})
            {%- endif %}
        ) as e
        inner join {{ nodes }} as a
            on a.node = e.node_a
        inner join {{ nodes }} as b
            on b.node = e.node_b
    {%- endset -%}
    {%- set links = klant.connected_components_step(state, 'links', sql) -%}

    {#- state carried from level to level #}
    {%- set s = namespace(
        labels=klant.connected_components_step(state, 'labels_0',
            'select node, node as label from ' ~ nodes ~ ' where 1 = 0'),
        kept=klant.connected_components_step(state, 'kept_0',
            'select node_a as src, node_b as dst from ' ~ links ~ ' where 1 = 0'),
        dropped_nodes=klant.connected_components_step(state, 'dropped_nodes_0',
            'select node, level, cast(null as ' ~ t_string ~ ') as stage, cast(null as '
            ~ t_string ~ ') as limit_type, cast(null as ' ~ t_bigint ~ ') as limit_count, cast(null as '
            ~ t_bigint ~ ') as limit_max, cast(null as ' ~ t_bigint ~ ') as groups_touched from '
            ~ nodes ~ ' where 1 = 0'),
        dropped_links=klant.connected_components_step(state, 'dropped_links_0',
            'select node_a, node_b, level, cast(null as ' ~ t_string ~ ') as stage, cast(null as '
            ~ t_string ~ ') as limit_type, cast(null as ' ~ t_bigint ~ ') as limit_count, cast(null as '
            ~ t_bigint ~ ') as limit_max from ' ~ links ~ ' where 1 = 0'),
        attempts=[]
    ) -%}

    {%- if state.can_loop -%}
        {%- set level_count = run_query('select coalesce(max(level), 0) from ' ~ nodes).columns[0].values()[0] | int -%}
    {%- else -%}
        {%- set level_count = var('klant__identity_unrolled_levels') | int -%}
    {%- endif -%}

    {%- for k in range(1, level_count + 1) -%}

        {%- set sql -%}
            select
                l.label,
                n.identifier_type,
                count(*) as n
            from {{ s.labels }} as l
            inner join {{ nodes }} as n
                on n.node = l.node
            group by l.label, n.identifier_type
        {%- endset -%}
        {%- set counts = klant.connected_components_step(state, 'counts_' ~ k, sql) -%}

        {%- set sql -%}
            select
                l.node_a,
                l.node_b
            from {{ links }} as l
            left join {{ s.dropped_nodes }} as a
                on a.node = l.node_a
            left join {{ s.dropped_nodes }} as b
                on b.node = l.node_b
            where
                l.level = {{ k }}
                and l.node_a <> l.node_b
                and a.node is null
                and b.node is null
        {%- endset -%}
        {%- set candidates = klant.connected_components_step(state, 'candidates_' ~ k, sql) -%}

        {#- 1. an identifier whose links touch groups that, joined with it, break a limit #}
        {%- set sql -%}
            with touches as (
                select c.node_b as node, l.label
                from {{ candidates }} as c
                inner join {{ s.labels }} as l
                    on l.node = c.node_a
                union
                select c.node_a as node, l.label
                from {{ candidates }} as c
                inner join {{ s.labels }} as l
                    on l.node = c.node_b
            ),

            totals as (
                select
                    node,
                    identifier_type,
                    cast(sum(n) as {{ t_bigint }}) as n
                from (
                    select t.node, c.identifier_type, c.n
                    from touches as t
                    inner join {{ counts }} as c
                        on c.label = t.label
                    union all
                    select distinct t.node, n.identifier_type, 1 as n
                    from touches as t
                    inner join {{ nodes }} as n
                        on n.node = t.node
                ) as joined
                group by node, identifier_type
            ),

            groups_touched as (
                select node, count(*) as groups_touched
                from touches
                group by node
            ),

            over_limit as (
                select
                    t.node,
                    t.identifier_type,
                    t.n,
                    m.max_per_person,
                    row_number() over (
                        partition by t.node order by m.level, t.identifier_type
                    ) as position
                from totals as t
                inner join {{ limits }} as m
                    on m.identifier_type = t.identifier_type
                where t.n > m.max_per_person
            )

            select
                o.node,
                {{ k }} as level,
                'ambiguous_identifier' as stage,
                o.identifier_type as limit_type,
                cast(o.n as {{ t_bigint }}) as limit_count,
                cast(o.max_per_person as {{ t_bigint }}) as limit_max,
                cast(g.groups_touched as {{ t_bigint }}) as groups_touched
            from over_limit as o
            inner join groups_touched as g
                on g.node = o.node
            where o.position = 1
        {%- endset -%}
        {%- set s.dropped_nodes = klant.connected_components_append(
            state, s.dropped_nodes, 'dropped_nodes_' ~ k ~ '_1', sql
        ) -%}

        {%- set attempt = namespace(number=0, violations=none, labels=none, edges=none, links=none, done=false) -%}
        {%- for a in range(1, 4) -%}
            {%- if not attempt.done -%}
                {%- set attempt.number = a -%}
                {%- set suffix = k ~ '_' ~ a -%}

                {#- 2. the level's links that survive, added to the groups so far #}
                {%- set sql -%}
                    select
                        c.node_a,
                        c.node_b
                    from {{ candidates }} as c
                    left join {{ s.dropped_nodes }} as a
                        on a.node = c.node_a
                    left join {{ s.dropped_nodes }} as b
                        on b.node = c.node_b
                    left join {{ s.dropped_links }} as d
                        on
                            d.node_a = c.node_a
                            and d.node_b = c.node_b
                    where
                        a.node is null
                        and b.node is null
                        and d.node_a is null
                {%- endset -%}
                {%- set attempt.links = klant.connected_components_step(state, 'try_links_' ~ suffix, sql) -%}

                {#- the groups so far are settled: each end of a surviving link stands for its
                    group (its label), or for itself when it is new at this level, so labels
                    propagate over this level's links alone, between whole groups #}
                {%- set sql -%}
                    with ends as (
                        select
                            coalesce(a.label, t.node_a) as group_a,
                            coalesce(b.label, t.node_b) as group_b
                        from {{ attempt.links }} as t
                        left join {{ s.labels }} as a
                            on a.node = t.node_a
                        left join {{ s.labels }} as b
                            on b.node = t.node_b
                    )

                    select group_a as src, group_b as dst from ends where group_a <> group_b
                    union
                    select group_b as src, group_a as dst from ends where group_a <> group_b
                {%- endset -%}
                {%- set attempt.edges = klant.connected_components_step(state, 'group_edges_' ~ suffix, sql) -%}

                {%- set start = klant.connected_components_step(state, 'group_labels_' ~ suffix,
                    'select distinct src as node, src as label from ' ~ attempt.edges
                ) -%}

                {%- set frontier = none -%}
                {%- if state.can_loop -%}
                    {%- set frontier = klant.connected_components_step(state, 'group_frontier_' ~ suffix,
                        'select node, label from ' ~ start
                    ) -%}
                {%- endif -%}

                {%- set merged = klant.connected_components_propagate(
                    state, attempt.edges, start, frontier, 'try_' ~ suffix
                ) -%}

                {#- every identifier of the levels so far follows its group; the level's new
                    identifiers (but those dropped) join theirs or stand alone #}
                {%- set sql -%}
                    select
                        l.node,
                        coalesce(m.label, l.label) as label
                    from {{ s.labels }} as l
                    left join {{ merged }} as m
                        on m.node = l.label
                    union all
                    select
                        n.node,
                        coalesce(m.label, n.node) as label
                    from {{ nodes }} as n
                    left join {{ s.dropped_nodes }} as d
                        on d.node = n.node
                    left join {{ merged }} as m
                        on m.node = n.node
                    where n.level = {{ k }} and d.node is null
                {%- endset -%}
                {%- set attempt.labels = klant.connected_components_step(state, 'try_labels_' ~ suffix, sql) -%}
                {%- do klant.connected_components_drop(state, [attempt.edges, merged]) -%}

                {%- set sql -%}
                    with counts as (
                        select
                            l.label,
                            n.identifier_type,
                            count(*) as n
                        from {{ attempt.labels }} as l
                        inner join {{ nodes }} as n
                            on n.node = l.node
                        group by l.label, n.identifier_type
                    )

                    select
                        c.label,
                        c.identifier_type,
                        cast(c.n as {{ t_bigint }}) as n,
                        cast(m.max_per_person as {{ t_bigint }}) as max_per_person,
                        m.level as type_level,
                        row_number() over (
                            partition by c.label order by m.level, c.identifier_type
                        ) as position
                    from counts as c
                    inner join {{ limits }} as m
                        on m.identifier_type = c.identifier_type
                    where c.n > m.max_per_person
                {%- endset -%}
                {%- set attempt.violations = klant.connected_components_step(state, 'violations_' ~ suffix, sql) -%}

                {%- if state.can_loop -%}
                    {%- set over = run_query('select count(*) from ' ~ attempt.violations).columns[0].values()[0] | int -%}
                    {%- if over == 0 -%}
                        {%- set attempt.done = true -%}
                    {%- elif a == 3 -%}
                        {{ exceptions.raise_compiler_error(
                            "connected_components_with_limits: " ~ this ~ " level " ~ k
                            ~ " still has " ~ over ~ " groups over a limit after dropping"
                        ) }}
                    {%- endif -%}
                {%- endif -%}

                {%- if not attempt.done and a == 1 -%}
                    {#- 3. links between two level-k identifiers inside a group over a limit #}
                    {%- set sql -%}
                        select
                            t.node_a,
                            t.node_b,
                            {{ k }} as level,
                            'ambiguous_link' as stage,
                            v.identifier_type as limit_type,
                            v.n as limit_count,
                            v.max_per_person as limit_max
                        from {{ attempt.links }} as t
                        inner join {{ nodes }} as a
                            on a.node = t.node_a
                        inner join {{ nodes }} as b
                            on b.node = t.node_b
                        inner join {{ attempt.labels }} as l
                            on l.node = t.node_a
                        inner join {{ attempt.violations }} as v
                            on
                                v.label = l.label
                                and v.position = 1
                        where a.level = {{ k }} and b.level = {{ k }}
                    {%- endset -%}
                    {%- set s.dropped_links = klant.connected_components_append(
                        state, s.dropped_links, 'dropped_links_' ~ k, sql
                    ) -%}
                {%- elif not attempt.done and a == 2 -%}
                    {#- 4. every level-k identifier of a group over a stronger type's limit, and
                        the surplus of a level-k type past its limit, by first sighting #}
                    {%- set sql -%}
                        with stronger as (
                            select
                                label,
                                identifier_type,
                                n,
                                max_per_person,
                                row_number() over (
                                    partition by label order by type_level, identifier_type
                                ) as position
                            from {{ attempt.violations }}
                            where type_level < {{ k }}
                        ),

                        bridges as (
                            select
                                n.node,
                                v.identifier_type,
                                v.n,
                                v.max_per_person
                            from {{ attempt.labels }} as l
                            inner join {{ nodes }} as n
                                on n.node = l.node
                            inner join stronger as v
                                on
                                    v.label = l.label
                                    and v.position = 1
                            where n.level = {{ k }}
                        ),

                        surplus as (
                            select
                                n.node,
                                v.identifier_type,
                                v.n,
                                v.max_per_person,
                                row_number() over (
                                    partition by l.label, n.identifier_type
                                    order by n.first_seen_at nulls last, n.node
                                ) as position
                            from {{ attempt.labels }} as l
                            inner join {{ nodes }} as n
                                on n.node = l.node
                            inner join {{ attempt.violations }} as v
                                on
                                    v.label = l.label
                                    and v.identifier_type = n.identifier_type
                            where v.type_level = {{ k }}
                        )

                        select
                            node,
                            {{ k }} as level,
                            'ambiguous_group' as stage,
                            identifier_type as limit_type,
                            n as limit_count,
                            max_per_person as limit_max,
                            cast(null as {{ t_bigint }}) as groups_touched
                        from bridges
                        union all
                        select
                            node,
                            {{ k }} as level,
                            'over_limit' as stage,
                            identifier_type as limit_type,
                            n as limit_count,
                            max_per_person as limit_max,
                            cast(null as {{ t_bigint }}) as groups_touched
                        from surplus
                        where
                            position > max_per_person
                            and node not in (select bridges.node from bridges)
                    {%- endset -%}
                    {%- set s.dropped_nodes = klant.connected_components_append(
                        state, s.dropped_nodes, 'dropped_nodes_' ~ k ~ '_2', sql
                    ) -%}
                {%- endif -%}
                {%- if not attempt.done -%}
                    {%- do klant.connected_components_drop(state, [attempt.labels]) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}

        {#- the level is settled: its groups and links are the starting point of the next #}
        {%- do s.attempts.append(attempt.number) -%}
        {%- do klant.connected_components_drop(state, [s.labels, counts]) -%}
        {%- set s.labels = attempt.labels -%}
        {%- set s.kept = klant.connected_components_append(
            state, s.kept, 'kept_' ~ k, 'select node_a as src, node_b as dst from ' ~ attempt.links
        ) -%}
    {%- endfor -%}

    {%- set sql -%}
        select
            l.node_a,
            l.node_b,
            l.level,
            case
                when l.node_a = l.node_b then la.node is not null
                else k.src is not null
            end as is_kept,
            case
                when l.node_a = l.node_b or k.src is not null then la.label
            end as component_id,
            coalesce(dl.stage, da.stage, db.stage) as drop_stage,
            case when dl.node_a is null then coalesce(da.node, db.node) end as dropped_node,
            coalesce(dl.limit_type, da.limit_type, db.limit_type) as limit_type,
            coalesce(dl.limit_count, da.limit_count, db.limit_count) as limit_count,
            coalesce(dl.limit_max, da.limit_max, db.limit_max) as limit_max,
            case when dl.node_a is null then coalesce(da.groups_touched, db.groups_touched) end
                as groups_touched
        from {{ links }} as l
        left join {{ s.labels }} as la
            on la.node = l.node_a
        left join {{ s.kept }} as k
            on
                k.src = l.node_a
                and k.dst = l.node_b
        left join {{ s.dropped_links }} as dl
            on
                dl.node_a = l.node_a
                and dl.node_b = l.node_b
        left join {{ s.dropped_nodes }} as da
            on da.node = l.node_a
        left join {{ s.dropped_nodes }} as db
            on db.node = l.node_b
    {%- endset -%}
    {%- set verdicts = klant.connected_components_step(state, 'verdicts', sql) -%}

    {#- the link groups: each kept group, or dropped identifier, joined to others by the dropped
        links between them (few), as components of their own #}
    {%- set sql -%}
        select
            node_a as node,
            coalesce(component_id, node_a) as grp
        from {{ verdicts }}
        where node_a = node_b
    {%- endset -%}
    {%- set node_groups = klant.connected_components_step(state, 'node_groups', sql) -%}
    {%- set sql -%}
        with ends as (
            select
                ga.grp as group_a,
                gb.grp as group_b
            from {{ verdicts }} as v
            inner join {{ node_groups }} as ga
                on ga.node = v.node_a
            inner join {{ node_groups }} as gb
                on gb.node = v.node_b
            where not v.is_kept and v.node_a <> v.node_b
        )

        select group_a as src, group_b as dst from ends where group_a <> group_b
        union
        select group_b as src, group_a as dst from ends where group_a <> group_b
    {%- endset -%}
    {%- set dropped_edges = klant.connected_components_step(state, 'dropped_edges', sql) -%}
    {%- set start = klant.connected_components_step(state, 'link_group_labels',
        'select distinct src as node, src as label from ' ~ dropped_edges
    ) -%}
    {%- set frontier = none -%}
    {%- if state.can_loop -%}
        {%- set frontier = klant.connected_components_step(state, 'link_group_frontier',
            'select node, label from ' ~ start
        ) -%}
    {%- endif -%}
    {%- set link_groups = klant.connected_components_propagate(
        state, dropped_edges, start, frontier, 'link_groups'
    ) -%}
    {%- set level_rounds = state.rounds[:-1] -%}
    {%- set level_jumps = state.jumps[:-1] -%}
    {%- set sql -%}
        select
            v.*,
            coalesce(m.label, g.grp) as link_group
        from {{ verdicts }} as v
        inner join {{ node_groups }} as g
            on g.node = v.node_a
        left join {{ link_groups }} as m
            on m.node = g.grp
    {%- endset -%}
    {%- set result = klant.connected_components_step(state, 'result', sql) -%}

    {%- if state.can_loop -%}
        {%- set size = run_query(
            'select (select count(*) from ' ~ nodes ~ '), (select count(*) from ' ~ links
            ~ ' where node_a <> node_b), (select count(*) from ' ~ s.dropped_nodes
            ~ '), (select count(*) from ' ~ s.dropped_links ~ ')'
        ).rows[0] -%}
        {%- do log(
            "connected_components_with_limits: " ~ this ~ " converged: " ~ size[0] ~ " identifiers, "
            ~ size[1] ~ " links, " ~ level_count ~ " levels; rounds per level and attempt "
            ~ level_rounds | join(', ') ~ " (" ~ level_rounds | sum ~ " in all, with "
            ~ level_jumps | sum ~ " pointer-jumping steps; attempts per level "
            ~ s.attempts | join(', ') ~ "); dropped " ~ size[2] ~ " identifiers and "
            ~ size[3] ~ " links over a limit; link groups in " ~ state.rounds[-1] ~ " rounds"
            ~ (" (within a scope of " ~ size[0] ~ " identifiers)" if scope is not none else ""),
            info=True
        ) -%}
        {%- do klant.connected_components_drop(
            state,
            [nodes, limits, links, s.labels, s.kept, s.dropped_nodes, s.dropped_links]
        ) -%}
        {%- for name in state.names -%}
            {%- if name != 'result' -%}
                {%- do run_query('drop table if exists ' ~ state.prefix ~ '_' ~ name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ klant.connected_components_sql(state, result) }}
{% endmacro %}
