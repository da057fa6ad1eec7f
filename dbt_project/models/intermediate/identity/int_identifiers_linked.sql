with

observations as (
    select * from {{ ref('int_identifiers_observed') }}
),

linkable as (
    select
        source,
        record_key,
        identifier_key,
        observed_at
    from observations
    where is_linkable
),

{#- a star per record (every identifier to the record's smallest one) links the same
    identifiers as all pairs, with n - 1 edges instead of n * (n - 1) / 2 #}
record_anchors as (
    select
        source,
        record_key,
        min(identifier_key) as anchor_key
    from linkable
    group by source, record_key
),

record_links as (
    select
        record_anchors.anchor_key as identifier_key_a,
        linkable.identifier_key as identifier_key_b,
        linkable.source,
        linkable.record_key,
        linkable.observed_at
    from linkable
    inner join record_anchors
        on
            record_anchors.source = linkable.source
            and record_anchors.record_key = linkable.record_key
),

final as (
    select
        identifier_key_a,
        identifier_key_b,
        identifier_key_a = identifier_key_b as is_self_link,
        count(*) as record_count,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from record_links
    group by identifier_key_a, identifier_key_b
)

select * from final
