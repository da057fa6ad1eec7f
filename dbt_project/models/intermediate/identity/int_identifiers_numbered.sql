{{
    config(
        materialized='incremental',
        incremental_strategy='append',
    )
}}

{#- The identifier dictionary: a lasting integer id per identifier key, so the identity graph
    runs on integers without sorting every key on every build. A build appends only the keys
    it has not seen, numbered on from the largest id issued (in key order, so the same inputs
    and the same previous state give the same ids). `dbt build --full-refresh` renumbers. #}

with

observations as (
    select * from {{ ref('int_identifiers_observed') }}
),

identifiers as (
    select distinct
        identifier_key,
        identifier_type
    from observations
    where is_linkable
),

{% if is_incremental() %}
numbered as (
    select
        identifier_key,
        identifier_id
    from {{ this }}
),
{% else %}
numbered as (
    select
        cast(null as {{ dbt.type_string() }}) as identifier_key,
        cast(null as {{ dbt.type_bigint() }}) as identifier_id
    where 1 = 0
),
{% endif %}

last_issued as (
    select coalesce(max(identifier_id), 0) as identifier_id
    from numbered
),

new_identifiers as (
    select
        identifiers.identifier_key,
        identifiers.identifier_type
    from identifiers
    left join numbered
        on numbered.identifier_key = identifiers.identifier_key
    where numbered.identifier_key is null
),

final as (
    select
        new_identifiers.identifier_key,
        new_identifiers.identifier_type,
        cast(
            last_issued.identifier_id
            + row_number() over (order by {{ klant.collate_binary('new_identifiers.identifier_key') }})
            as {{ dbt.type_bigint() }}
        ) as identifier_id,
        {{ build_started_at() }} as numbered_at
    from new_identifiers
    cross join last_issued
)

select * from final
