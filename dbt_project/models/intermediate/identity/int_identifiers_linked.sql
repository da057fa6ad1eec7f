with

observations as (
    select * from {{ ref('int_identifiers_observed') }}
),

numbered as (
    select * from {{ ref('int_identifiers_numbered') }}
),

linkable as (
    select
        observations.source,
        observations.record_key,
        numbered.identifier_id,
        observations.observed_at
    from observations
    inner join numbered
        on numbered.identifier_key = observations.identifier_key
    where observations.is_linkable
),

{#- every pair of identifiers on a record, and each identifier with itself (which makes it a
    node even when it is alone). All pairs rather than a star around one identifier: when the
    limits drop an identifier, the record's other identifiers must stay linked to each other.
    A record holds a handful of identifiers, so this is a few rows per record. Pairs are
    counted on the integer ids; the keys and types come from the dictionary afterwards. #}
record_links as (
    select
        a.identifier_id as identifier_id_a,
        b.identifier_id as identifier_id_b,
        a.observed_at
    from linkable as a
    inner join linkable as b
        on
            b.source = a.source
            and b.record_key = a.record_key
            and b.identifier_id >= a.identifier_id
),

pairs as (
    select
        identifier_id_a,
        identifier_id_b,
        count(*) as record_count,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from record_links
    group by identifier_id_a, identifier_id_b
),

final as (
    select
        a.identifier_key as identifier_key_a,
        b.identifier_key as identifier_key_b,
        pairs.identifier_id_a,
        pairs.identifier_id_b,
        a.identifier_type as identifier_type_a,
        b.identifier_type as identifier_type_b,
        pairs.identifier_id_a = pairs.identifier_id_b as is_self_link,
        pairs.record_count,
        pairs.first_observed_at,
        pairs.last_observed_at
    from pairs
    inner join numbered as a
        on a.identifier_id = pairs.identifier_id_a
    inner join numbered as b
        on b.identifier_id = pairs.identifier_id_b
)

select * from final
