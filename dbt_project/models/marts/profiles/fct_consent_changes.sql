{#- the consent purposes: each is the golden field consent_<purpose> -#}
{%- set purposes = ['email', 'advertising', 'personalization'] -%}
{%- set web_purposes = ['advertising', 'personalization'] -%}

with

ranked_values as (
    select * from {{ ref('int_profile_values_ranked') }}
),

events as (
    select * from {{ ref('int_web_events_profiled') }}
),

{#- a person's statements are the golden record's candidates, with its ranking: the statement
    that won (value_rank 1) is the last one, and statements at the same instant are ordered the
    way the golden record breaks their tie (better source, then refusal), so the latest row of
    the history is the value dim_profiles shows. A statement without a time sorts first, as it
    loses there. #}
person_statements as (
    select
        person_id as profile_id,
        person_id,
        cast(null as {{ dbt.type_string() }}) as visitor_id,
        substr(attribute, {{ 'consent_' | length + 1 }}) as purpose,
        case attribute_value
            when 'true' then true
            when 'false' then false
        end as granted,
        observed_at as stated_at,
        source,
        record_key,
        row_number() over (
            partition by person_id, attribute
            order by observed_at nulls first, value_rank desc
        ) as statement_number
    from ranked_values
    where attribute in (
        {%- for purpose in purposes %}'consent_{{ purpose }}'{{ ', ' if not loop.last }}{% endfor -%}
    )
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
        row_number() over (
            partition by visitor_id
            order by event_at, {{ klant.collate_binary('message_id') }}
        ) as statement_number
    from events
    where
        visitor_id is not null
        and consent_{{ purpose }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

statements as (
    select * from person_statements
    where granted is not null
    union all
    select * from visitor_statements
),

{#- a change is the first statement or one that differs from the statement before it; saying
    the same again (every web event repeats the banner's state) is no change, but it is the
    latest word: dim_profiles dates a consent from its last restatement #}
compared as (
    select
        *,
        lag(granted) over (
            partition by profile_id, purpose
            order by statement_number
        ) as previous_granted
    from statements
),

flagged as (
    select
        *,
        case when previous_granted is null or previous_granted <> granted then 1 else 0 end
            as is_change
    from compared
),

{#- every statement belongs to the change it follows: the running count of changes #}
numbered as (
    select
        *,
        sum(is_change) over (
            partition by profile_id, purpose
            order by statement_number
            rows between unbounded preceding and current row
        ) as change_number
    from flagged
),

restatements as (
    select
        *,
        row_number() over (
            partition by profile_id, purpose, change_number
            order by statement_number desc
        ) as restatement_rank,
        count(*) over (partition by profile_id, purpose, change_number) as statement_count,
        max(change_number) over (partition by profile_id, purpose) as change_count
    from numbered
),

last_statements as (
    select * from restatements
    where restatement_rank = 1
),

changes as (
    select
        restatements.*,
        last_statements.stated_at as last_stated_at,
        last_statements.source as last_stated_source,
        last_statements.record_key as last_stated_record_key
    from restatements
    inner join last_statements
        on
            last_statements.profile_id = restatements.profile_id
            and last_statements.purpose = restatements.purpose
            and last_statements.change_number = restatements.change_number
    where restatements.is_change = 1
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
    from changes
)

select * from final
