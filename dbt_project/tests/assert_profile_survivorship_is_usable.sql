{#- Every field of the golden record (the columns of int_profiles_golden) has exactly one rule in
    profile_survivorship, a rule the ranking knows, and a source_order naming only known sources,
    each once: a field without a rule would silently stay empty, and a misspelt source would
    silently never supply it. A follow:<field> rule must name a field of the golden record whose
    own rule is one of the others: the ranking resolves one level only, so following a follower
    (or itself) would not keep the fields together. One row per problem. -#}
{%- set fields = [
    'first_name', 'last_name', 'email', 'phone', 'street', 'postal_code', 'city', 'country',
    'company', 'lifecycle_stage', 'consent_email', 'consent_advertising', 'consent_personalization',
] -%}
{%- set rules = ['source_priority', 'most_recent', 'most_frequent', 'earliest'] -%}
{%- set follow_prefix = 'follow:' -%}
{%- set sources = ['crm', 'commerce', 'web'] -%}
{#- a source_order longer than this is reported as such (there are three sources) -#}
{%- set max_entries = 10 -%}

with

survivorship as (
    select * from {{ ref('profile_survivorship') }}
),

fields as (
    {%- for field in fields %}
    select '{{ field }}' as attribute
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

rule_counts as (
    select
        fields.attribute,
        count(survivorship.attribute) as rule_count,
        sum(
            case
                when survivorship.rule in ('{{ rules | join("', '") }}') then 1
                when survivorship.rule like '{{ follow_prefix }}%' then 1
                else 0
            end
        ) as known_rule_count
    from fields
    left join survivorship
        on survivorship.attribute = fields.attribute
    group by fields.attribute
),

{#- the fields a follow:<field> rule can name: fields of the golden record with a rule of their
    own #}
leaders as (
    select survivorship.attribute
    from survivorship
    inner join fields
        on fields.attribute = survivorship.attribute
    where survivorship.rule in ('{{ rules | join("', '") }}')
),

follows as (
    select
        followers.attribute,
        followers.rule,
        count(leaders.attribute) as leader_count
    from survivorship as followers
    left join leaders
        on leaders.attribute = substr(followers.rule, {{ follow_prefix | length + 1 }})
    where followers.rule like '{{ follow_prefix }}%'
    group by followers.attribute, followers.rule
),

entries as (
    {%- for position in range(1, max_entries + 2) %}
    select
        attribute,
        source_order,
        {{ position }} as position,
        trim({{ dbt.split_part('source_order', "'>'", position) }}) as source
    from survivorship
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

source_counts as (
    select
        attribute,
        source_order,
        source,
        count(*) as occurrences,
        max(position) as last_position
    from entries
    where coalesce(source, '') <> ''
    group by attribute, source_order, source
),

problems as (
    select
        attribute,
        'needs exactly one rule, has ' || cast(rule_count as {{ dbt.type_string() }})
        as problem
    from rule_counts
    where rule_count <> 1
    union all
    select
        attribute,
        'has a rule that is not one of {{ rules | join(", ") }} or follow:<field>' as problem
    from rule_counts
    where rule_count = 1 and known_rule_count = 0
    union all
    select
        attribute,
        rule || ' does not name a field of the golden record with a rule of its own'
        || ' ({{ rules | join(", ") }})' as problem
    from follows
    where leader_count = 0
    union all
    select
        attribute,
        'is not a field of the golden record' as problem
    from survivorship
    where attribute not in (select fields.attribute from fields)
    union all
    select
        attribute,
        'lists an unknown source in its source_order: ' || source as problem
    from source_counts
    where source not in ('{{ sources | join("', '") }}') and last_position <= {{ max_entries }}
    union all
    select
        attribute,
        'lists a source twice in its source_order: ' || source as problem
    from source_counts
    where occurrences > 1
    union all
    select
        attribute,
        'has a source_order longer than {{ max_entries }} entries' as problem
    from source_counts
    where last_position > {{ max_entries }}
    union all
    select
        attribute,
        'has no source in its source_order' as problem
    from survivorship
    where coalesce(trim(replace(source_order, '>', '')), '') = ''
)

select * from problems
