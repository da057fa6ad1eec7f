{#-
    A model that is computed per person (every output row depends only on its own person's input
    rows and on settings such as a seed) can be incremental by person: a run recomputes only the
    persons whose input rows changed since the run before, and leaves the table exactly as a full
    rebuild would.

    The model is materialized='incremental' with incremental_strategy='append', the hooks
    pre_hook="{{ klant.person_incremental_prepare() }}" and
    post_hook="{{ klant.person_incremental_remember() }}", and
    meta={'person_incremental': {'inputs': <model>, 'columns': [...], 'settings': [<seed>, ...],
    'vars': [...], 'key': <column>}}: inputs, the model it reads its person rows from (by
    name); columns, the columns of it that the model reads (the key aside); settings, models or
    seeds read whole, and vars, the dbt vars it reads, whose every change recomputes every
    person, as does any edit of the model's own code; key, the column that names a person in
    both the inputs and the model (person_id unless given: a profile_id, say). On an incremental
    run the model reads only the input rows of `<key> in (select <key> from
    person_incremental_persons())`.

    The table <model>__persons keeps, per person, the count and an order-free fingerprint (a sum
    of row hashes) of the input rows the model's rows were computed from, and how many rows the
    model wrote for them. The pre-hook recomputes a person when its input rows' count or
    fingerprint differ from the kept ones, when the model holds another number of rows for it
    than it wrote (a purge deleted some, a run stopped half-way), when it has no kept entry, and
    every person when the settings or the code changed: it deletes their rows and lists them in
    <model>__changed. The post-hook keeps the new entries. A run that stops anywhere is repaired
    by the next one. `dbt build --full-refresh` rebuilds the table and its entries.
-#}

{% macro person_incremental_relation(suffix) -%}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__' ~ suffix
    )) }}
{%- endmacro %}

{#- whether a table exists now (dbt's relation cache does not see the ones run_query made) -#}
{% macro person_incremental_exists(relation) -%}
    {%- set found = run_query(
        "select count(*) from information_schema.tables where table_schema = '" ~ relation.schema
        ~ "' and table_name = '" ~ relation.identifier ~ "'"
        ~ (" and table_catalog = '" ~ relation.database ~ "'" if relation.database else "")
    ).columns[0].values()[0] -%}
    {{ return(found | int > 0) }}
{%- endmacro %}

{#- (re)create a table of a query's rows -#}
{% macro person_incremental_replace(relation, sql) -%}
    {%- do run_query('drop table if exists ' ~ relation) -%}
    {%- do run_query('create table ' ~ relation ~ ' as ' ~ sql) -%}
{%- endmacro %}

{#- the persons an incremental run computes (a relation with one column, the key) -#}
{% macro person_incremental_persons() -%}
    {{ return(klant.person_incremental_relation('changed')) }}
{%- endmacro %}

{#- the code and settings the rows were computed with, as one text -#}
{% macro person_incremental_version(spec) -%}
    {%- set code = [model.raw_code] -%}
    {%- for name in spec.vars -%}
        {%- do code.append(name ~ '=' ~ var(name)) -%}
    {%- endfor -%}
    {%- set parts = ["'" ~ local_md5(code | join('\n')) ~ "'"] -%}
    {%- for relation in spec.settings -%}
        {%- do parts.append(
            "(select " ~ dbt.cast(
                'coalesce(sum(' ~ klant.row_fingerprint(['settings_row']) ~ '), 0)', dbt.type_string()
            ) ~ " from " ~ relation ~ " as settings_row)"
        ) -%}
    {%- endfor -%}
    {{ return(parts | join(" || '/' || ")) }}
{%- endmacro %}

{#- per person of the inputs: how many rows and the sum of their fingerprints -#}
{% macro person_incremental_inputs_sql(spec) -%}
    select
        {{ spec.key }},
        count(*) as input_rows,
        sum({{ klant.row_fingerprint(spec.columns) }}) as input_fingerprint
    from {{ spec.inputs }}
    where {{ spec.key }} is not null
    group by {{ spec.key }}
{%- endmacro %}

{#- the model's meta person_incremental, its names resolved: inputs and settings as relations -#}
{% macro person_incremental_spec() -%}
    {%- set spec = config.get('meta', {}).get('person_incremental') -%}
    {%- if spec is none -%}
        {{ exceptions.raise_compiler_error(this ~ ": person_incremental hooks need meta.person_incremental") }}
    {%- endif -%}
    {%- set settings = [] -%}
    {%- for name in spec.get('settings', []) -%}
        {%- do settings.append(ref(name)) -%}
    {%- endfor -%}
    {{ return({
        'inputs': ref(spec['inputs']),
        'columns': spec['columns'],
        'settings': settings,
        'vars': spec.get('vars', []),
        'key': spec.get('key', 'person_id'),
    }) }}
{%- endmacro %}

{% macro person_incremental_prepare() -%}
    {%- if execute and not is_incremental() -%}
        {#- a full build: the scratch tables of a run that stopped must not count as this run's #}
        {%- do run_query('drop table if exists ' ~ klant.person_incremental_persons()) -%}
        {%- do run_query('drop table if exists ' ~ klant.person_incremental_relation('inputs')) -%}
    {%- elif execute -%}
        {%- set spec = klant.person_incremental_spec() -%}
        {%- set key = spec.key -%}
        {%- set kept = klant.person_incremental_relation('persons') -%}
        {%- set current = klant.person_incremental_relation('inputs') -%}
        {%- set changed = klant.person_incremental_persons() -%}
        {%- do klant.person_incremental_replace(current, klant.person_incremental_inputs_sql(spec)) -%}
        {%- set has_kept = klant.person_incremental_exists(kept) -%}
        {%- set sql -%}
            with

            written as (
                select {{ key }}, count(*) as output_rows
                from {{ this }}
                group by {{ key }}
            ),

            {%- if has_kept %}
            kept as (
                select * from {{ kept }}
                where version = ({{ klant.person_incremental_version(spec) }})
            ),
            {%- else %}
            kept as (
                select
                    {{ key }},
                    input_rows,
                    input_fingerprint,
                    cast(null as {{ dbt.type_bigint() }}) as output_rows
                from {{ current }}
                where 1 = 0
            ),
            {%- endif %}

            persons as (
                select {{ key }} from {{ current }}
                union
                select {{ key }} from kept
                union
                select {{ key }} from written
            )

            select persons.{{ key }}
            from persons
            left join {{ current }} as current_inputs
                on current_inputs.{{ key }} = persons.{{ key }}
            left join kept
                on kept.{{ key }} = persons.{{ key }}
            left join written
                on written.{{ key }} = persons.{{ key }}
            where
                kept.{{ key }} is null
                or current_inputs.input_rows is distinct from kept.input_rows
                or current_inputs.input_fingerprint is distinct from kept.input_fingerprint
                or coalesce(written.output_rows, 0) <> kept.output_rows
        {%- endset -%}
        {%- do klant.person_incremental_replace(changed, sql) -%}
        {%- do run_query(
            'delete from ' ~ this ~ ' where ' ~ key ~ ' in (select ' ~ key ~ ' from ' ~ changed ~ ')'
        ) -%}
    {%- endif -%}
{%- endmacro %}

{% macro person_incremental_remember() -%}
    {%- if execute -%}
        {%- set spec = klant.person_incremental_spec() -%}
        {%- set key = spec.key -%}
        {%- set kept = klant.person_incremental_relation('persons') -%}
        {%- set current = klant.person_incremental_relation('inputs') -%}
        {%- set changed = klant.person_incremental_persons() -%}
        {%- set version = klant.person_incremental_version(spec) -%}
        {#- is_incremental() is true after a first build too: the table exists by now #}
        {%- set incremental = klant.person_incremental_exists(changed) -%}
        {%- set sql -%}
            select
                current_inputs.{{ key }},
                current_inputs.input_rows,
                current_inputs.input_fingerprint,
                coalesce(written.output_rows, 0) as output_rows,
                {{ version }} as version
            from
            {%- if incremental %}
                {{ current }} as current_inputs
            inner join {{ changed }} as changed
                on changed.{{ key }} = current_inputs.{{ key }}
            {%- else %}
                ({{ klant.person_incremental_inputs_sql(spec) }}) as current_inputs
            {%- endif %}
            left join (
                select {{ key }}, count(*) as output_rows
                from {{ this }}
                {%- if incremental %}
                where {{ key }} in (select {{ key }} from {{ changed }})
                {%- endif %}
                group by {{ key }}
            ) as written
                on written.{{ key }} = current_inputs.{{ key }}
        {%- endset -%}
        {%- if incremental -%}
            {%- set counts = run_query(
                'select (select count(*) from ' ~ changed ~ '), (select count(*) from ' ~ current ~ ')'
            ).rows[0] -%}
            {%- if not klant.person_incremental_exists(kept) -%}
                {#- no entries were kept: every person was computed #}
                {%- do run_query('create table ' ~ kept ~ ' as ' ~ sql) -%}
            {%- else -%}
                {%- do run_query(
                    'delete from ' ~ kept ~ ' where ' ~ key ~ ' in (select ' ~ key ~ ' from ' ~ changed
                    ~ ') or version <> (' ~ version ~ ')'
                ) -%}
                {%- do run_query('insert into ' ~ kept ~ ' ' ~ sql) -%}
            {%- endif -%}
            {%- do log(
                this.identifier ~ ": recomputed " ~ counts[0] ~ " of " ~ counts[1] ~ " persons",
                info=True
            ) -%}
        {%- else -%}
            {%- do klant.person_incremental_replace(kept, sql) -%}
        {%- endif -%}
        {%- do run_query('drop table if exists ' ~ changed) -%}
        {%- do run_query('drop table if exists ' ~ current) -%}
    {%- endif -%}
{%- endmacro %}

{#- a number for the values of `columns` (a table alias: its whole row), the same for equal
    values; a person's rows are summed into a fingerprint that no reordering changes -#}
{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'klant')(columns)) }}
{%- endmacro %}

{#- PostgreSQL: the first 60 bits of the MD5 of the row's text form, as a bigint -#}
{% macro default__row_fingerprint(columns) -%}
    ('x' || substr(md5(json_build_array({{ columns | join(', ') }})::text), 1, 15))::bit(60)::bigint
{%- endmacro %}

{#- DuckDB: hash() of the columns together (64 bits; the sum is a hugeint) -#}
{% macro duckdb__row_fingerprint(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}
