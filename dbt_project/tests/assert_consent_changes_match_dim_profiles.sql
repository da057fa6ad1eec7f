{#- The latest change in fct_consent_changes of a person and purpose is the consent dim_profiles
    shows: the same answer, and its last restatement has the source and time of dim_profiles'
    consent_<purpose>_source and _updated_at; a person has a history for a purpose exactly when
    dim_profiles has a consent for it. Anonymous visitors likewise against dim_visitors
    (web purposes only). One row per disagreement. -#}
{%- set purposes = ['email', 'advertising', 'personalization'] -%}
{%- set web_purposes = ['advertising', 'personalization'] -%}

with

changes as (
    select * from {{ ref('fct_consent_changes') }}
),

profiles as (
    select * from {{ ref('dim_profiles') }}
),

visitors as (
    select * from {{ ref('dim_visitors') }}
),

current_changes as (
    select
        profile_id,
        purpose,
        granted,
        last_stated_source as source,
        last_stated_at as changed_at
    from changes
    where is_current
),

stated as (
    {%- for purpose in purposes %}
    select
        person_id as profile_id,
        '{{ purpose }}' as purpose,
        consent_{{ purpose }} as granted,
        consent_{{ purpose }}_source as source,
        consent_{{ purpose }}_updated_at as changed_at
    from profiles
    where consent_{{ purpose }} is not null
    union all
    {%- endfor %}
    {%- for purpose in web_purposes %}
    select
        visitor_id as profile_id,
        '{{ purpose }}' as purpose,
        consent_{{ purpose }} as granted,
        'web' as source,
        consent_{{ purpose }}_updated_at as changed_at
    from visitors
    where consent_{{ purpose }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

{#- a profile and purpose with more than one current change is a broken history #}
duplicated as (
    select
        profile_id,
        purpose,
        'more than one current change' as problem
    from current_changes
    group by profile_id, purpose
    having count(*) > 1
),

compared as (
    select
        coalesce(stated.profile_id, current_changes.profile_id) as profile_id,
        coalesce(stated.purpose, current_changes.purpose) as purpose,
        case
            when current_changes.profile_id is null then 'consent without a history'
            when stated.profile_id is null then 'history without a consent'
            when current_changes.granted <> stated.granted then 'different answer'
            when current_changes.source <> stated.source then 'different source'
            when current_changes.changed_at <> stated.changed_at then 'different time'
            when (current_changes.changed_at is null) <> (stated.changed_at is null)
                then 'different time'
        end as problem
    from stated
    full outer join current_changes
        on
            current_changes.profile_id = stated.profile_id
            and current_changes.purpose = stated.purpose
),

final as (
    select * from compared
    where problem is not null
    union all
    select * from duplicated
)

select * from final
