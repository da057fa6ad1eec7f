{#- the consent purposes: each is the golden field consent_<purpose> -#}
{%- set purposes = ['email', 'advertising', 'personalization'] -%}
{%- set web_purposes = ['advertising', 'personalization'] -%}
{#- a person's statement as a boolean: consent values are 'true' or 'false' -#}
{%- set granted = "case attribute_value when 'true' then true when 'false' then false end" -%}
{#- the order of a person's statements and of a visitor's, shared by the windows below -#}
{%- set person_order = 'partition by person_id, attribute'
    ~ ' order by observed_at nulls first, value_rank desc' -%}
{%- set visitor_order = 'partition by visitor_id'
    ~ ' order by event_at, ' ~ klant.collate_binary('message_id') -%}

with

ranked_values as (
    select * from {{ ref('int_profile_values_ranked') }}
),

{#- an anonymous visitor's events, only what its statements read: a CTE read twice (once per
    purpose) is computed once, whole #}
visitor_events as (
    select
        visitor_id,
        message_id,
        event_at,
        {%- for purpose in web_purposes %}
        consent_{{ purpose }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_web_events_profiled') }}
    where visitor_id is not null
),

{#- a person's statements are the golden record's candidates, with its ranking: the statement
    that won (value_rank 1) is the last one, and statements at the same instant are ordered the
    way the golden record breaks their tie (better source, then refusal), so the latest row of
    the history is the value dim_profiles shows. A statement without a time sorts first, as it
    loses there. A value other than 'true' or 'false' states nothing. #}
person_statements as (
    select
        person_id as profile_id,
        person_id,
        cast(null as {{ dbt.type_string() }}) as visitor_id,
        substr(attribute, {{ 'consent_' | length + 1 }}) as purpose,
        {{ granted }} as granted,
        observed_at as stated_at,
        source,
        record_key,
        row_number() over ({{ person_order }}) as statement_number,
        lag({{ granted }}) over ({{ person_order }}) as previous_granted,
        lead({{ granted }}) over ({{ person_order }}) as next_granted
    from ranked_values
    where
        attribute in (
            {%- for purpose in purposes -%}
            'consent_{{ purpose }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        )
        and attribute_value in ('true', 'false')
),

{#- an anonymous visitor's statements are the consent on its events, ordered as dim_visitors
    picks the current one (latest event, then the larger messageId) #}
visitor_statements as (
    {%- for purpose in web_purposes %}
    select
        visitor_id as profile_id,
        cast(null as {{ dbt.type_string() }}) as person_id,
        visitor_id,
        '{{ purpose }}' as purpose,
        consent_{{ purpose }} as granted,
        event_at as stated_at,
        'web' as source,
        message_id as record_key,
        row_number() over ({{ visitor_order }}) as statement_number,
        lag(consent_{{ purpose }}) over ({{ visitor_order }}) as previous_granted,
        lead(consent_{{ purpose }}) over ({{ visitor_order }}) as next_granted
    from visitor_events
    where consent_{{ purpose }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

statements as (
    select * from person_statements
    union all
    select * from visitor_statements
),

{#- a change is the first statement or one that differs from the statement before it; saying
    the same again (every web event repeats the banner's state) is no change, but it is the
    latest word: dim_profiles dates a consent from its last restatement. A run of equal answers
    is a change and its restatements: it ends at the statement before the next change, the one
    whose next_granted differs (or that has none). Only the bounds of runs are kept (changes and
    runs' last statements: under 6 million of 20 million statements at a million people), so
    no second window and no aggregate runs over every statement. #}
bounds as (
    select *
    from (
        select
            *,
            previous_granted is null or previous_granted <> granted as is_change,
            next_granted is null or next_granted <> granted as is_run_end
        from statements
    ) as flagged
    where is_change or is_run_end
),

{#- in statement order a run's end follows its change (or is the change itself): the change takes
    its run's end from the next bound; changes are numbered by the bounds that are changes #}
runs as (
    select
        *,
        {%- for column in ['statement_number', 'stated_at', 'source', 'record_key'] %}
        lead({{ column }}) over (
            partition by profile_id, purpose order by statement_number
        ) as next_{{ column }},
        {%- endfor %}
        sum(case when is_change then 1 else 0 end) over (
            partition by profile_id, purpose
            order by statement_number
            rows between unbounded preceding and current row
        ) as change_number,
        sum(case when is_change then 1 else 0 end) over (
            partition by profile_id, purpose
        ) as change_count
    from bounds
),

counted as (
    select
        profile_id,
        purpose,
        change_number,
        change_count,
        person_id,
        visitor_id,
        granted,
        previous_granted,
        stated_at,
        source,
        record_key,
        case when is_run_end then stated_at else next_stated_at end as last_stated_at,
        case when is_run_end then source else next_source end as last_stated_source,
        case when is_run_end then record_key else next_record_key end as last_stated_record_key,
        case
            when is_run_end then 1
            else next_statement_number - statement_number + 1
        end as statement_count
    from runs
    where is_change
),

final as (
    select
        profile_id
        || ':' || purpose
        || ':' || cast(change_number as {{ dbt.type_string() }}) as consent_change_id,
        profile_id,
        person_id,
        visitor_id,
        case when person_id is not null then 'person' else 'visitor' end as profile_type,
        purpose,
        granted,
        previous_granted,
        case
            when previous_granted is null then 'first_statement'
            when granted then 'granted'
            else 'revoked'
        end as change_type,
        stated_at as changed_at,
        source,
        record_key,
        cast(statement_count as integer) as statement_count,
        last_stated_at,
        last_stated_source,
        last_stated_record_key,
        cast(change_number as integer) as change_number,
        change_number = change_count as is_current
    from counted
)

select * from final
