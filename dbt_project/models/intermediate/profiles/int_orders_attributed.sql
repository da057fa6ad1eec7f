with

orders as (
    select * from {{ ref('stg_commerce__orders') }}
),

records as (
    select * from {{ ref('int_records_resolved') }}
    where source = 'commerce'
),

flagged as (
    select
        orders.order_name,
        records.person_id,
        orders.created_at,
        orders.financial_status,
        orders.cancelled_at is not null as is_cancelled,
        orders.currency,
        orders.total,
        orders.refunded_amount,
        coalesce(orders.total, 0) - coalesce(orders.refunded_amount, 0) as net_revenue,
        (
            orders.cancelled_at is null
            and orders.financial_status is not null
            and orders.financial_status not in (
                {%- for status in var('klant__non_revenue_financial_statuses') -%}
                    '{{ status }}'{{ ', ' if not loop.last }}
                {%- endfor -%}
            )
        ) as is_revenue_status
    from orders
    left join records
        on records.record_key = orders.order_name
),

final as (
    select
        order_name,
        person_id,
        created_at,
        financial_status,
        is_cancelled,
        currency,
        total,
        refunded_amount,
        net_revenue,
        {#- revenue-bearing: not cancelled, not voided or pending, and not refunded in full #}
        is_revenue_status and net_revenue > 0 as is_revenue_bearing
    from flagged
)

select * from final
