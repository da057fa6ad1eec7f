{#- Incremental by person (macros/person_incremental.sql): a run ranks again only the persons
    whose candidates in int_profile_values_unioned changed (new records, merges, a purge), every
    person when the survivorship seed or this model's code changed, and leaves the table as a
    full rebuild would. `dbt build --full-refresh` rebuilds it whole. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'person_incremental': {
        'inputs': 'int_profile_values_unioned',
        'columns': [
            'attribute', 'attribute_value', 'source', 'is_well_formed', 'record_key', 'observed_at'
        ],
        'settings': ['profile_survivorship'],
    }},
    pre_hook="{{ klant.person_incremental_prepare() }}",
    post_hook="{{ klant.person_incremental_remember() }}",
) }}

{#- a field whose rule is 'follow:<leader>' takes its value from the record that won <leader> -#}
{%- set follow_prefix = 'follow:' -%}
{#- a source's place in the field's source_order, > 0 when it is listed (see placed) -#}
{%- set source_position = dbt.position(
    "'>' || profile_values.source || '>'", 'source_orders.source_list'
) -%}

{#- the candidates twice: every field's (ranked below), and the leading fields' alone (few: the
    street), each computed from the model's own scans. Both reading one candidates CTE made
    DuckDB write all of them (49 million rows at a million people) to a temporary table and
    read it back twice, the leaders' pass included. -#}
{%- set candidate_sets = [('', none), ('leader_', 'leader')] -%}

{#- an incremental run reads the candidates of the persons to rank again only -#}
{%- if is_incremental() -%}
    {%- set person_filter = 'person_id in (select person_id from '
        ~ klant.person_incremental_persons() ~ ')' -%}
{%- else -%}
    {%- set person_filter = 'true' -%}
{%- endif %}

with

survivorship as (
    select * from {{ ref('profile_survivorship') }}
),

{#- source_order as a list with a '>' on either side: ">crm>commerce>web>". A follower's
    fallback, for a person whose leader record does not state it, is source_priority #}
source_orders as (
    select
        attribute,
        rule,
        case
            when rule like '{{ follow_prefix }}%' then 'source_priority'
            else rule
        end as ranking_rule,
        case
            when rule like '{{ follow_prefix }}%'
                then substr(rule, {{ follow_prefix | length + 1 }})
        end as leader_attribute,
        '>' || replace(source_order, ' ', '') || '>' as source_list
    from survivorship
),
{%- for prefix, only in candidate_sets %}

{{ prefix }}profile_values as (
    select * from {{ ref('int_profile_values_unioned') }}
    where
        {{ person_filter }}
        {%- if only == 'leader' %}
        and attribute in (select leader_attribute from source_orders)
        {%- endif %}
),

{#- the statements of the fields ranked most_frequent, only what value_counts reads: read again
    rather than from profile_values (a CTE read twice is computed once, whole) #}
{{ prefix }}value_statements as (
    select
        person_id,
        attribute,
        attribute_value,
        source,
        observed_at
    from {{ ref('int_profile_values_unioned') }}
    where
        {{ person_filter }}
        and attribute in (select attribute from source_orders where ranking_rule = 'most_frequent')
        {%- if only == 'leader' %}
        and attribute in (select leader_attribute from source_orders)
        {%- endif %}
),

{#- a source's rank is its place in source_order, counted as the '>' up to and including the one
    before it (crm 1, commerce 2, web 3); a source left out of source_order supplies nothing #}
{{ prefix }}placed as (
    select
        profile_values.*,
        source_orders.rule,
        source_orders.ranking_rule,
        source_orders.leader_attribute,
        source_orders.source_list,
        {{ source_position }} as source_position
    from {{ prefix }}profile_values as profile_values
    inner join source_orders
        on source_orders.attribute = profile_values.attribute
),

{#- how many of the person's records state each value for a most_frequent field, and when it was
    seen last, by one aggregate joined back rather than a window over every candidate. Only
    those fields: at a million people, counting every field's values (12 million groups from 48
    million candidates, of which the country's are 3 million) kept the model at 105.6 s against
    81.8 s. #}
{{ prefix }}value_counts as (
    select
        profile_values.person_id,
        profile_values.attribute,
        profile_values.attribute_value,
        count(*) as value_record_count,
        max(profile_values.observed_at) as value_last_observed_at
    from {{ prefix }}value_statements as profile_values
    inner join source_orders
        on source_orders.attribute = profile_values.attribute
    where {{ source_position }} > 0
    group by profile_values.person_id, profile_values.attribute, profile_values.attribute_value
),

{{ prefix }}candidates as (
    select
        placed.person_id,
        placed.attribute,
        placed.attribute_value,
        placed.source,
        placed.record_key,
        placed.observed_at,
        placed.is_well_formed,
        placed.rule,
        placed.ranking_rule,
        placed.leader_attribute,
        placed.source_position
        - {{ dbt.length(dbt.replace(
            'substr(placed.source_list, 1, placed.source_position)', "'>'", "''"
        )) }}
            as source_rank,
        value_counts.value_record_count,
        value_counts.value_last_observed_at
    from {{ prefix }}placed as placed
    left join {{ prefix }}value_counts as value_counts
        on
            value_counts.person_id = placed.person_id
            and value_counts.attribute = placed.attribute
            and value_counts.attribute_value = placed.attribute_value
    where placed.source_position > 0
),
{%- endfor %}

{#- one ordering serves every rule: a sort key that does not belong to the field's rule is the
    same (null) for all its candidates. source_priority: the best source, its well-cased values
    first, then its most recent. The others: well-cased values first (for names), then
    most_frequent: most records, then the value seen last; most_recent: the latest; earliest:
    the first. Equal times go to the better source, then to the smaller value, so of two
    consent statements at one instant in one source the refusal ('false') wins. #}
{%- set rule_order %}
                case when ranking_rule = 'source_priority' then source_rank end,
                case when is_well_formed then 0 else 1 end,
                case when ranking_rule = 'most_frequent' then value_record_count end desc,
                case
                    when ranking_rule = 'most_frequent' then value_last_observed_at
                end desc nulls last,
                case when ranking_rule = 'earliest' then observed_at end nulls last,
                case when ranking_rule <> 'earliest' then observed_at end desc nulls last,
                source_rank,
                {{ klant.collate_binary('attribute_value') }},
                {{ klant.collate_binary('record_key') }}
{%- endset %}

{#- the record (source and record_key) that won each field other fields follow, ranked by its
    own rule among the candidates of the leading fields alone (few: the street) #}
leader_ranked as (
    select
        person_id,
        attribute,
        source,
        record_key,
        row_number() over (
            partition by person_id, attribute
            order by {{ rule_order }}
        ) as rule_rank
    from leader_candidates
),

leader_records as (
    select
        person_id,
        attribute,
        source,
        record_key
    from leader_ranked
    where rule_rank = 1
),

{#- a follower's value on its leader's winning record goes first, so the parts of an address
    come from one record; without one (the record does not state the field, or the leader has
    no value) the field falls back to its source_priority order. For every other field
    is_on_leader_record is false for all candidates, so its order is its rule's. One ranking of
    every candidate: keeping them all for a second ranking of the followers held a copy of every
    candidate (49 million at a million people). #}
followed as (
    select
        candidates.*,
        coalesce(leader_records.person_id is not null, false) as is_on_leader_record
    from candidates
    left join leader_records
        on
            candidates.leader_attribute is not null
            and leader_records.person_id = candidates.person_id
            and leader_records.attribute = candidates.leader_attribute
            and leader_records.source = candidates.source
            and leader_records.record_key = candidates.record_key
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_id, attribute
            order by
                case when is_on_leader_record then 0 else 1 end,
                {{- rule_order }}
        ) as value_rank
    from followed
),

final as (
    select
        person_id,
        attribute,
        attribute_value,
        source,
        record_key,
        observed_at,
        rule,
        source_rank,
        is_well_formed,
        value_record_count,
        is_on_leader_record,
        value_rank
    from ranked
)

select * from final
