{#-
    int_identifier_links_limited computed again only where its input changed. What the identity
    rules decide for a link depends on its link group alone (the component over all links,
    kept and dropped: connected_components_with_limits), so a run recomputes the link groups
    that hold a link whose row in int_identifiers_linked is new, gone or changed (its records,
    first or last sighting, or, for a self-link, its key: a renumbered id), and every link
    group a new link joins; every other row stays as it is, which is what a full rebuild would
    write for it. The union of those groups (scope) is closed under the links: a link the run
    has not changed joins two identifiers of one old link group, and a changed link's ends are
    in the scope.

    The model is materialized='incremental' with incremental_strategy='append', reads its
    links through identity_incremental_scope() (none: all of them), and has the hooks
    pre_hook identity_incremental_prepare() (deletes the scope's rows, or every row when the
    state cannot be trusted) and post_hook identity_incremental_remember() (keeps the version).
    Every link is recomputed when the identity rules, the model's code or the macros that
    decide (connected_components_*) changed, when the table lacks a column this needs, with
    var klant__identity_incremental false, or with `dbt build --full-refresh`. The scope is
    computed while the model's SQL is written, as the macro's steps are; the pre-hook then runs
    just before the rows are appended. The post-hook logs how many identifiers' links the run
    computed again.
-#}

{% macro identity_incremental_relation(suffix) -%}
    {{ return(klant.person_incremental_relation(suffix)) }}
{%- endmacro %}

{#- the code and the rules the rows were computed with, as one SQL text -#}
{% macro identity_incremental_version() -%}
    {%- set code = [model.raw_code] -%}
    {%- for name in [
        'identity_incremental_scope', 'connected_components_with_limits',
        'connected_components_propagate', 'connected_components_round',
        'connected_components_step', 'connected_components_append', 'connected_components_state',
    ] -%}
        {%- do code.append(klant[name].macro.macro_sql) -%}
    {%- endfor -%}
    {%- set rules = "(select " ~ dbt.cast(
        'coalesce(sum(' ~ klant.row_fingerprint(['rules_row']) ~ '), 0)', dbt.type_string()
    ) ~ " from " ~ ref('identity_rules') ~ " as rules_row)" -%}
    {{ return("'" ~ local_md5(code | join('\n')) ~ "' || '/' || " ~ rules) }}
{%- endmacro %}

{#- the nodes (identifier ids) whose links this run computes, as a relation with one column,
    node; none for every link (a full build, no trusted state, or no database loop) -#}
{% macro identity_incremental_scope() -%}
    {#- the loop runs (connected_components_state) before is_incremental(), which a unit test
        cannot call #}
    {%- if not (klant.connected_components_state().can_loop and is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set scope = klant.identity_incremental_relation('scope') -%}
    {%- set kept = klant.identity_incremental_relation('state') -%}
    {%- do run_query('drop table if exists ' ~ scope) -%}
    {%- if not var('klant__identity_incremental') -%}
        {%- do log(this.identifier ~ ": var klant__identity_incremental is false: every link recomputed", info=True) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- for needed in ['identifier_id_a', 'identifier_id_b', 'link_group'] -%}
        {%- if needed not in columns -%}
            {%- do log(this.identifier ~ ": no " ~ needed ~ " column yet: every link recomputed", info=True) -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if not klant.person_incremental_exists(kept) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set same = run_query(
        'select count(*) from ' ~ kept ~ ' where version = (' ~ klant.identity_incremental_version() ~ ')'
    ).columns[0].values()[0] | int -%}
    {%- if same == 0 -%}
        {%- do log(this.identifier ~ ": the rules or the code changed: every link recomputed", info=True) -%}
        {{ return(none) }}
    {%- endif -%}
    {#- what a link's row in int_identifiers_linked and in this table have alike #}
    {%- set compared -%}
                identifier_id_a,
                identifier_id_b,
                record_count,
                first_observed_at,
                last_observed_at,
                case when is_self_link then identifier_key_a end as self_key
    {%- endset -%}
    {%- set sql -%}
        with

        current_links as (
            select
                {{ compared }}
            from {{ ref('int_identifiers_linked') }}
        ),

        kept_links as (
            select
                {{ compared }},
                link_group
            from {{ this }}
        ),

        changed as (
            select
                coalesce(c.identifier_id_a, k.identifier_id_a) as node_a,
                coalesce(c.identifier_id_b, k.identifier_id_b) as node_b
            from current_links as c
            full outer join kept_links as k
                on
                    k.identifier_id_a = c.identifier_id_a
                    and k.identifier_id_b = c.identifier_id_b
            where
                c.identifier_id_a is null
                or k.identifier_id_a is null
                or c.record_count is distinct from k.record_count
                or c.first_observed_at is distinct from k.first_observed_at
                or c.last_observed_at is distinct from k.last_observed_at
                or c.self_key is distinct from k.self_key
        ),

        ends as (
            select node_a as node from changed
            union
            select node_b as node from changed
        ),

        touched_groups as (
            select distinct kept_links.link_group
            from kept_links
            inner join ends
                on ends.node = kept_links.identifier_id_a
            where kept_links.identifier_id_a = kept_links.identifier_id_b
        )

        select node from ends
        union
        select identifier_id_a as node
        from kept_links
        where
            identifier_id_a = identifier_id_b
            and link_group in (select link_group from touched_groups)
    {%- endset -%}
    {%- do klant.person_incremental_replace(scope, sql) -%}
    {{ return(scope) }}
{%- endmacro %}

{% macro identity_incremental_prepare() -%}
    {%- if execute and is_incremental() -%}
        {%- set scope = klant.identity_incremental_relation('scope') -%}
        {%- if klant.person_incremental_exists(scope) -%}
            {%- do run_query(
                'delete from ' ~ this ~ ' where identifier_id_a in (select node from ' ~ scope
                ~ ') or identifier_id_b in (select node from ' ~ scope ~ ')'
            ) -%}
        {%- else -%}
            {%- do run_query('delete from ' ~ this) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro identity_incremental_remember() -%}
    {%- if execute -%}
        {%- set scope = klant.identity_incremental_relation('scope') -%}
        {%- set kept = klant.identity_incremental_relation('state') -%}
        {%- if klant.person_incremental_exists(scope) -%}
            {%- set counts = run_query(
                'select (select count(*) from ' ~ scope ~ '), (select count(*) from ' ~ this
                ~ ' where identifier_id_a = identifier_id_b)'
            ).rows[0] -%}
            {%- do log(
                this.identifier ~ ": recomputed the links of " ~ counts[0] ~ " of " ~ counts[1]
                ~ " identifiers", info=True
            ) -%}
        {%- endif -%}
        {%- do klant.person_incremental_replace(
            kept, 'select ' ~ klant.identity_incremental_version() ~ ' as version'
        ) -%}
        {%- do run_query('drop table if exists ' ~ scope) -%}
    {%- endif -%}
{%- endmacro %}
