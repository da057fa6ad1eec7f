with

identifiers as (
    select * from {{ ref('int_identifiers_clustered') }}
),

registry as (
    select * from {{ ref('int_identifiers_registered') }}
),

links as (
    select * from {{ ref('int_identifiers_linked') }}
),

{#- an identifier's link to itself counts the records that carry it (each record names an
    identifier once) and spans its first and last sighting #}
self_links as (
    select
        identifier_key_a as identifier_key,
        record_count,
        first_observed_at,
        last_observed_at
    from links
    where is_self_link
),

final as (
    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        registry.person_id,
        self_links.record_count,
        self_links.first_observed_at,
        self_links.last_observed_at
    from identifiers
    inner join registry
        on registry.identifier_key = identifiers.identifier_key
    inner join self_links
        on self_links.identifier_key = identifiers.identifier_key
    where identifiers.is_person
)

select * from final
