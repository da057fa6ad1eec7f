{#- Every (recency score, frequency score) pair from 1..5 x 1..5 falls in exactly one segment
    of the rfm_segments seed: a pair in none would leave a scored customer without a segment,
    a pair in two would give a customer two rows or an arbitrary name. Rows whose bounds lie
    outside 1..5 or run backwards fail too, as they cover nothing they seem to. -#}
with

segments as (
    select * from {{ ref('rfm_segments') }}
),

scores as (
    select 1 as score
    union all select 2
    union all select 3
    union all select 4
    union all select 5
),

score_pairs as (
    select
        recency.score as recency_score,
        frequency.score as frequency_score
    from scores as recency
    cross join scores as frequency
),

pair_coverage as (
    select
        score_pairs.recency_score,
        score_pairs.frequency_score,
        count(segments.segment_name) as segment_count,
        {{ dbt.listagg('segments.segment_name', "', '", 'order by segments.segment_name') }}
            as segment_names
    from score_pairs
    left join segments
        on
            score_pairs.recency_score between segments.recency_score_min
            and segments.recency_score_max
            and score_pairs.frequency_score between segments.frequency_score_min
            and segments.frequency_score_max
    group by score_pairs.recency_score, score_pairs.frequency_score
),

final as (
    select
        'pair covered ' || cast(segment_count as {{ dbt.type_string() }}) || ' times' as problem,
        recency_score,
        frequency_score,
        segment_names
    from pair_coverage
    where segment_count <> 1

    union all

    select
        'bounds outside 1..5 or reversed' as problem,
        recency_score_min as recency_score,
        frequency_score_min as frequency_score,
        segment_name as segment_names
    from segments
    where
        recency_score_min < 1
        or recency_score_max > 5
        or recency_score_min > recency_score_max
        or frequency_score_min < 1
        or frequency_score_max > 5
        or frequency_score_min > frequency_score_max
)

select * from final
