{#- fct_consent_changes holds changes only: each change of a profile and purpose after the first
    says the opposite of the one before it and records it as its previous answer, numbers run
    1, 2, 3 ... in time, and the last one is the current one. One row per broken change. -#}

with

changes as (
    select * from {{ ref('fct_consent_changes') }}
),

sequenced as (
    select
        *,
        lag(granted) over (
            partition by profile_id, purpose
            order by change_number
        ) as granted_before,
        lag(changed_at) over (
            partition by profile_id, purpose
            order by change_number
        ) as changed_before_at,
        row_number() over (
            partition by profile_id, purpose
            order by change_number
        ) as position,
        count(*) over (partition by profile_id, purpose) as change_count
    from changes
),

final as (
    select
        consent_change_id,
        case
            when change_number <> position then 'change_number out of sequence'
            when is_current <> (position = change_count) then 'is_current not on the last change'
            when position = 1 and previous_granted is not null then 'first change has a previous'
            when position > 1 and previous_granted is null then 'change without a previous'
            when position > 1 and previous_granted <> granted_before then 'previous is not the one before'
            when position > 1 and granted = granted_before then 'repeats the answer before it'
            when changed_at < changed_before_at then 'earlier than the change before it'
        end as problem
    from sequenced
)

select * from final
where problem is not null
