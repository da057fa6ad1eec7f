{%- set timestamps = ['fetched_at', 'expires_at'] -%}

with

audiences as (
    select * from {{ source('dmp', 'dmp_audiences') }}
),

trimmed as (
    select
        nullif(trim(cookie_id), '') as cookie_id,
        nullif(lower(trim(hashed_email)), '') as hashed_email,
        nullif(trim(audience_code), '') as audience_code,
        nullif(trim(audience_name), '') as audience_name,
        nullif(trim(provider), '') as provider,
        trim(fetched_at) as fetched_at_text,
        trim(expires_at) as expires_at_text,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from audiences
),

{#- ISO 8601 with an offset ('2026-11-27T06:00:00+01:00', '...Z', optional fractions) to UTC:
    the local part is cast as is, then moved back by the offset's minutes #}
typed as (
    select
        cookie_id,
        hashed_email,
        audience_code,
        audience_name,
        provider,
        {%- for column in timestamps %}
        {%- set text = column ~ '_text' %}
        case
            when {{ klant.regex_matches(text, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$') }}
                then cast(replace(substr({{ text }}, 1, length({{ text }}) - 1), 'T', ' ') as timestamp)
            when {{ klant.regex_matches(text, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?[+-][0-9]{2}:[0-9]{2}$') }}
                then {{ dbt.dateadd(
                    'minute',
                    '(case when substr(' ~ text ~ ', length(' ~ text ~ ') - 5, 1) = \'-\' then 1 else -1 end)'
                    ~ ' * (cast(substr(' ~ text ~ ', length(' ~ text ~ ') - 4, 2) as integer) * 60'
                    ~ ' + cast(substr(' ~ text ~ ', length(' ~ text ~ ') - 1, 2) as integer))',
                    'cast(replace(substr(' ~ text ~ ', 1, length(' ~ text ~ ') - 6), \'T\', \' \') as timestamp)'
                ) }}
        end as {{ column }},
        {%- endfor %}
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from trimmed
),

{#- the same membership in the same fetch, delivered twice (a file sent again under another
    name), counts once: the first load wins #}
ranked as (
    select
        *,
        row_number() over (
            partition by provider, audience_code, cookie_id, hashed_email, fetched_at
            order by _loaded_at, _load_id, _source_file, _line_number
        ) as delivery_rank
    from typed
),

final as (
    select
        provider
        || '|' || audience_code
        || '|' || coalesce(cookie_id, '')
        || '|' || coalesce(hashed_email, '')
        || '|' || coalesce(cast(fetched_at as {{ dbt.type_string() }}), '') as membership_key,
        cookie_id,
        hashed_email,
        audience_code,
        coalesce(audience_name, audience_code) as audience_name,
        provider,
        fetched_at,
        expires_at,
        _load_id,
        _source_file,
        _line_number,
        _loaded_at
    from ranked
    where delivery_rank = 1
)

select * from final
