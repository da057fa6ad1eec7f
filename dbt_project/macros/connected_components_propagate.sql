{#- Runs connected_components_round until no label changes. labels(node, label) is the
    starting state (converged for every edge but those touching the frontier); frontier(node,
    label) the nodes to start from. Loop mode updates the labels table in place; after each
    round it shortcuts (label := label of label, a cheap join of the labels alone, until every
    node points at its root), which keeps the rounds over the edges near log2 of the longest
    chain whatever the order of the ids; it stops at the first round that changes nothing and
    fails the build past var klant__identity_max_rounds. Where no loop can run (unit tests,
    dbt compile/show) the same labels come from a recursive CTE, exact but only fit for small
    inputs. Returns the name of the final labels; rounds and shortcut steps go to state. -#}
{% macro connected_components_propagate(state, edges, labels, frontier, name) %}
    {%- if state.can_loop -%}
        {%- set changed = state.prefix ~ '_changed' -%}
        {%- set jumped = state.prefix ~ '_jumped' -%}
        {%- set current = namespace(
            frontier=frontier, rounds=0, jumps=0, converged=false, shortcut_done=false
        ) -%}
        {%- for i in range(state.max_rounds) -%}
            {%- if not current.converged -%}
                {%- do run_query('drop table if exists ' ~ changed) -%}
                {%- do run_query(
                    'create temporary table ' ~ changed ~ ' as '
                    ~ klant.connected_components_round(edges, labels, current.frontier)
                ) -%}
                {%- if state.analyze -%}
                    {%- do run_query(state.analyze | replace('{relation}', changed)) -%}
                {%- endif -%}
                {%- set moved = run_query('select count(*) from ' ~ changed).columns[0].values()[0] | int -%}
                {%- set current.rounds = i + 1 -%}
                {%- if moved == 0 -%}
                    {%- set current.converged = true -%}
                {%- else -%}
                    {%- do run_query(
                        'update ' ~ labels ~ ' set label = c.label from ' ~ changed
                        ~ ' as c where ' ~ labels ~ '.node = c.node'
                    ) -%}
                    {#- shortcut: label := label of label until every node points at its root
                        (each step halves the trees' depth); jumped nodes join the frontier #}
                    {%- for j in range(state.max_rounds) -%}
                        {%- if not current.shortcut_done -%}
                            {%- do run_query('drop table if exists ' ~ jumped) -%}
                            {%- do run_query(
                                'create temporary table ' ~ jumped ~ ' as select l.node, p.label from '
                                ~ labels ~ ' as l inner join ' ~ labels ~ ' as p on p.node = l.label'
                                ~ ' where p.label < l.label'
                            ) -%}
                            {%- set jumps = run_query('select count(*) from ' ~ jumped).columns[0].values()[0] | int -%}
                            {%- if jumps == 0 -%}
                                {%- set current.shortcut_done = true -%}
                            {%- else -%}
                                {%- set current.jumps = current.jumps + 1 -%}
                                {%- do run_query(
                                    'update ' ~ labels ~ ' set label = j.label from ' ~ jumped
                                    ~ ' as j where ' ~ labels ~ '.node = j.node'
                                ) -%}
                                {%- do run_query('insert into ' ~ changed ~ ' select node, label from ' ~ jumped) -%}
                            {%- endif -%}
                        {%- endif -%}
                    {%- endfor -%}
                    {%- set current.shortcut_done = false -%}
                    {%- do run_query('drop table if exists ' ~ jumped) -%}
                {%- endif -%}
                {%- do run_query('drop table if exists ' ~ current.frontier) -%}
                {%- do run_query(
                    'alter table ' ~ changed ~ ' rename to ' ~ state.prefix ~ '_' ~ name ~ '_frontier'
                ) -%}
                {%- set current.frontier = state.prefix ~ '_' ~ name ~ '_frontier' -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do run_query('drop table if exists ' ~ current.frontier) -%}
        {%- if not current.converged -%}
            {%- set size = run_query('select count(*) from ' ~ labels).columns[0].values()[0] -%}
            {{ exceptions.raise_compiler_error(
                "connected_components: " ~ this ~ " (" ~ name ~ ") did not converge within "
                ~ state.max_rounds ~ " rounds (var klant__identity_max_rounds); "
                ~ size ~ " nodes"
            ) }}
        {%- endif -%}
        {%- do state.rounds.append(current.rounds) -%}
        {%- do state.jumps.append(current.jumps) -%}
        {{ return(labels) }}
    {%- else -%}
        {#- no loop here: the same fixpoint as a recursive CTE (every start label spreads over
            the edges; a node keeps the smallest that reaches it), exact, for small inputs #}
        {%- set reach = 'cc_' ~ name ~ '_reach' -%}
        {%- do state.names.append(name ~ '_reach') -%}
        {%- do state.ctes.append(
            reach ~ ' as (select node, label from ' ~ labels ~ ' union select e.dst as node, r.label from '
            ~ reach ~ ' as r inner join ' ~ edges ~ ' as e on e.src = r.node)'
        ) -%}
        {%- set state.recursive = true -%}
        {%- do state.rounds.append(0) -%}
        {{ return(klant.connected_components_step(
            state, name ~ '_labels', 'select node, min(label) as label from ' ~ reach ~ ' group by node'
        )) }}
    {%- endif -%}
{% endmacro %}
