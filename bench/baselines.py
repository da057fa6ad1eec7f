"""Reference implementations timed on the pipeline's own build, as floors for klant's stages.

identity: the links the identity stage kept, grouped by scipy's connected_components (string
ids mapped to integers in DuckDB, labels written back); checked to give klant's partition.
traits: the order and web traits per person in one hand-written DuckDB script over the raw
tables, reading only klant's record -> person mapping; checked against klant's trait models.
"""

import time

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

LINKS = "intermediate.int_identifier_links_limited"
CLUSTERED = "intermediate.int_identifiers_clustered"
RECORDS = "intermediate.int_records_resolved"


def export_edges(con: duckdb.DuckDBPyConnection) -> int:
    """The kept links (self-links make lone identifiers nodes) as bench_edges(key_a, key_b)."""
    con.execute(
        f"""
        create or replace table bench_edges as
        select identifier_key_a as key_a, identifier_key_b as key_b
        from {LINKS}
        where is_kept
        """
    ).fetchall()
    return con.execute("select count(*) from bench_edges").fetchall()[0][0]


def group_edges(con: duckdb.DuckDBPyConnection, edges: str = "bench_edges") -> dict[str, float]:
    """Label every node of `edges` (key_a, key_b) with its connected component into
    bench_labels(identifier_key, label); returns the seconds of each part."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    con.execute(
        f"""
        create or replace table bench_nodes as
        select identifier_key, cast(row_number() over () - 1 as integer) as node_id
        from (select key_a as identifier_key from {edges} union select key_b from {edges})
        """
    ).fetchall()
    pairs = con.execute(
        f"""
        select a.node_id as a, b.node_id as b
        from {edges} as edges
        inner join bench_nodes as a on a.identifier_key = edges.key_a
        inner join bench_nodes as b on b.identifier_key = edges.key_b
        """
    ).fetchnumpy()
    node_count = con.execute("select count(*) from bench_nodes").fetchall()[0][0]
    timings["mapping"] = time.perf_counter() - started

    started = time.perf_counter()
    a, b = np.asarray(pairs["a"]), np.asarray(pairs["b"])
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(node_count, node_count))
    _, labels = connected_components(graph.tocsr(), directed=False)
    timings["grouping"] = time.perf_counter() - started

    started = time.perf_counter()
    frame = pa.table(
        {"node_id": np.arange(node_count, dtype=np.int32), "label": labels.astype(np.int32)}
    )
    con.register("bench_label_frame", frame)
    con.execute(
        """
        create or replace table bench_labels as
        select nodes.identifier_key, frame.label
        from bench_nodes as nodes
        inner join bench_label_frame as frame on frame.node_id = nodes.node_id
        """
    ).fetchall()
    con.unregister("bench_label_frame")
    timings["write_back"] = time.perf_counter() - started
    timings["total"] = timings["mapping"] + timings["grouping"] + timings["write_back"]
    return timings


def compare_partitions(con: duckdb.DuckDBPyConnection, left: str, right: str) -> dict[str, int]:
    """Compare two groupings given as queries of (node, label): the same partition when both
    cover the same nodes and every label on one side meets exactly one label on the other."""
    row = con.execute(
        f"""
        with
        l as (select * from ({left}) as q(node, label)),
        r as (select * from ({right}) as q(node, label)),
        joined as (select l.node, l.label as l_label, r.label as r_label
                   from l full outer join r on r.node = l.node)
        select
            count(*) filter (where l_label is null) as only_right,
            count(*) filter (where r_label is null) as only_left,
            count(distinct l_label) as left_groups,
            count(distinct r_label) as right_groups,
            count(distinct (l_label, r_label)) filter (
                where l_label is not null and r_label is not null
            ) as pairs
        from joined
        """
    ).fetchall()[0]
    only_right, only_left, left_groups, right_groups, pairs = row
    return {
        "nodes_only_left": only_left,
        "nodes_only_right": only_right,
        "left_groups": left_groups,
        "right_groups": right_groups,
        "label_pairs": pairs,
        "same": int(only_left == only_right == 0 and left_groups == right_groups == pairs),
    }


def identity_baseline(con: duckdb.DuckDBPyConnection) -> dict:
    """Export the kept links once, group them with scipy, check against klant's groups."""
    edges = export_edges(con)
    timings = group_edges(con)
    partition = compare_partitions(
        con,
        f"select identifier_key, component_key from {CLUSTERED}",
        "select identifier_key, label from bench_labels",
    )
    nodes = con.execute("select count(*) from bench_nodes").fetchall()[0][0]
    return {"edges": edges, "nodes": nodes, "seconds": timings, "partition": partition}


OBSERVED = "intermediate.int_identifiers_observed"


def identity_reach(con: duckdb.DuckDBPyConnection, build: str, since: str) -> dict:
    """How much of the identity graph of the build file `build` the records observed since
    `since` reach: their identifiers, the groups of every link holding one (kept or dropped by
    the limits, as a dropped link still decides what the limits keep), and those groups' share
    of all identifiers and links. An identity stage that recomputed only what a day's records
    touch would recompute that share; the rest of the graph would stay as it was."""
    con.execute("set enable_progress_bar = false")
    con.execute(f"attach '{build}' as reach_build (read_only)")
    try:
        con.execute(
            f"""
            create or replace table reach_edges as
            select identifier_key_a as key_a, identifier_key_b as key_b
            from reach_build.{LINKS}
            """
        )
        con.execute(
            f"""
            create or replace table reach_touched as
            select distinct identifier_key
            from reach_build.{OBSERVED}
            where is_linkable and observed_at >= cast(? as timestamp)
            """,
            [since],
        )
    finally:
        con.execute("detach reach_build")
    group_edges(con, "reach_edges")
    row = con.execute(
        """
        with
        touched_groups as (
            select distinct labels.label
            from reach_touched inner join bench_labels as labels using (identifier_key)
        ),
        link_groups as (
            select labels.label
            from reach_edges as edges
            inner join bench_labels as labels on labels.identifier_key = edges.key_a
        )
        select
            (select count(*) from reach_touched),
            (select count(*) from touched_groups),
            (select count(*) from bench_labels where label in (select label from touched_groups)),
            (select count(*) from bench_labels),
            (select count(*) from link_groups where label in (select label from touched_groups)),
            (select count(*) from link_groups)
        """
    ).fetchall()[0]
    touched, groups, reached, identifiers, reached_links, links = row
    return {
        "since": since,
        "touched_identifiers": touched,
        "touched_groups": groups,
        "identifiers_reached": reached,
        "identifiers": identifiers,
        "identifier_share": round(reached / identifiers, 4) if identifiers else None,
        "links_reached": reached_links,
        "links": links,
        "link_share": round(reached_links / links, 4) if links else None,
    }


def traits_sql(as_of: str, session_timeout_minutes: int = 30) -> str:
    """One script: web and order traits per person from the raw tables and the person map."""
    now = f"timestamp '{as_of}'"
    return f"""
create or replace table bench_web_traits as
with
events as (
    select
        trim(message_id) as message_id,
        nullif(trim(type), '') as event_type,
        nullif(trim(event), '') as event_name,
        coalesce(nullif(trim(anonymous_id), ''), 'user:' || nullif(trim(user_id), ''))
            as device_key,
        try_cast(replace(replace(trim("timestamp"), 'T', ' '), 'Z', '') as timestamp)
            as event_at,
        nullif(trim(json_extract_string(context, '$.campaign.source')), '') as utm_source,
        nullif(trim(json_extract_string(context, '$.campaign.medium')), '') as utm_medium,
        nullif(trim(json_extract_string(context, '$.campaign.name')), '') as utm_campaign,
        nullif(trim(json_extract_string(context, '$.userAgent')), '') as user_agent
    from raw.web_events
    where nullif(trim(message_id), '') is not null
    qualify row_number() over (
        partition by trim(message_id) order by _loaded_at, _load_id, _source_file, _line_number
    ) = 1
),
personal as (
    select
        records.person_id,
        events.*,
        case
            when user_agent is null then null
            when user_agent like '%iPad%' or user_agent like '%Tablet%' then 'tablet'
            when user_agent like '%Android%' and user_agent not like '%Mobile%' then 'tablet'
            when user_agent like '%Mobi%' or user_agent like '%iPhone%' then 'mobile'
            else 'desktop'
        end as device_type,
        lag(event_at) over (
            partition by records.person_id, device_key order by event_at, events.message_id
        ) as previous_at
    from events
    inner join {RECORDS} as records
        on records.source = 'web' and records.record_key = events.message_id
    where events.event_at is not null
),
devices as (
    select person_id, device_type, count(*) as n, max(event_at) as last_at
    from personal
    where device_type is not null
    group by all
),
preferred as (
    select person_id, arg_max(device_type, (n, last_at)) as preferred_device
    from devices
    group by person_id
),
activity as (
    select
        person_id,
        count(*) filter (
            where previous_at is null
            or event_at > previous_at + interval {session_timeout_minutes} minute
        ) as session_count,
        count(*) filter (where event_type = 'page') as page_view_count,
        count(*) filter (where event_name = 'Product Viewed') as product_view_count,
        count(*) filter (where event_name = 'Product Added') as cart_add_count,
        max(event_at) filter (where event_name = 'Product Added') as last_cart_add_at,
        min(event_at) as web_first_seen_at,
        max(event_at) as web_last_seen_at,
        arg_min(
            {{'s': utm_source, 'm': utm_medium, 'c': utm_campaign}}, (event_at, message_id)
        ) filter (where utm_source is not null) as first_touch,
        arg_max(
            {{'s': utm_source, 'm': utm_medium, 'c': utm_campaign}}, (event_at, message_id)
        ) filter (where utm_source is not null) as last_touch
    from personal
    group by person_id
)
select
    activity.person_id,
    session_count,
    page_view_count,
    product_view_count,
    cart_add_count,
    last_cart_add_at,
    web_first_seen_at,
    web_last_seen_at,
    first_touch.s as first_touch_utm_source,
    first_touch.m as first_touch_utm_medium,
    first_touch.c as first_touch_utm_campaign,
    last_touch.s as last_touch_utm_source,
    last_touch.m as last_touch_utm_medium,
    last_touch.c as last_touch_utm_campaign,
    preferred.preferred_device
from activity
left join preferred on preferred.person_id = activity.person_id;

create or replace table bench_order_traits as
with
rows as (
    select *, trim(name) as order_name
    from raw.shopify_orders
    where nullif(trim(name), '') is not null
),
headers as (
    select
        order_name,
        lower(nullif(trim(financial_status), '')) as financial_status,
        try_cast(trim(total) as decimal(18, 2)) as total,
        try_cast(trim(refunded_amount) as decimal(18, 2)) as refunded_amount,
        nullif(trim(cancelled_at), '') is not null as is_cancelled,
        cast(substr(trim(created_at), 1, 19) as timestamp)
            + (case when substr(trim(created_at), 21, 1) = '-' then 1 else -1 end)
            * (cast(substr(trim(created_at), 22, 2) as integer) * 60
               + cast(substr(trim(created_at), 24, 2) as integer)) * interval 1 minute
            as created_at
    from rows
    qualify row_number() over (
        partition by order_name
        order by
            case when financial_status is not null or total is not null then 0 else 1 end,
            _loaded_at desc, _load_id desc, _source_file desc, _line_number
    ) = 1
),
orders as (
    select
        records.person_id,
        headers.*,
        coalesce(total, 0) - coalesce(refunded_amount, 0) as net_revenue,
        not is_cancelled
            and financial_status is not null
            and financial_status not in ('pending', 'voided')
            and coalesce(total, 0) - coalesce(refunded_amount, 0) > 0 as is_revenue_bearing
    from headers
    inner join {RECORDS} as records
        on records.source = 'commerce' and records.record_key = headers.order_name
),
totals as (
    select
        person_id,
        count(*) as order_count,
        count(*) filter (where is_revenue_bearing) as revenue_order_count,
        coalesce(sum(net_revenue) filter (where is_revenue_bearing), 0) as revenue,
        coalesce(sum(net_revenue) filter (
            where is_revenue_bearing
            and created_at >= {now} - interval 365 day and created_at < {now}
        ), 0) as revenue_12m,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at,
        max(created_at) filter (where is_revenue_bearing) as last_revenue_order_at
    from orders
    group by person_id
),
rfm as (
    select
        person_id,
        cast(1 + floor(5.0 * (rank() over (order by last_revenue_order_at) - 1)
            / count(*) over ()) as integer) as r,
        cast(1 + floor(5.0 * (rank() over (order by revenue_order_count) - 1)
            / count(*) over ()) as integer) as f,
        cast(1 + floor(5.0 * (rank() over (order by revenue) - 1)
            / count(*) over ()) as integer) as m
    from totals
    where revenue_order_count > 0
),
sku_categories as (
    select sku, first(category order by n desc, category) as category
    from (
        select sku, category, count(*) as n
        from (
            select
                nullif(trim(json_extract_string(properties, '$.sku')), '') as sku,
                nullif(trim(json_extract_string(properties, '$.category')), '') as category
            from raw.web_events
        ) as product_events
        where sku is not null and category is not null
        group by all
    ) as counted
    group by sku
),
categories as (
    select
        orders.person_id,
        string_agg(distinct coalesce(sku_categories.category, 'Uncategorized'), ', '
            order by coalesce(sku_categories.category, 'Uncategorized')) as product_categories
    from orders
    inner join rows
        on rows.order_name = orders.order_name and nullif(trim(rows.lineitem_sku), '') is not null
    left join sku_categories on sku_categories.sku = trim(rows.lineitem_sku)
    where orders.is_revenue_bearing
    group by orders.person_id
)
select
    totals.person_id,
    order_count,
    revenue_order_count,
    cast(revenue as decimal(18, 2)) as revenue,
    case when revenue_order_count > 0 then cast(floor(
        (2 * cast(revenue * 100 as bigint) + revenue_order_count) / (2 * revenue_order_count)
    ) as bigint) * 0.01 end as average_order_value,
    first_order_at,
    last_order_at,
    date_diff('day', cast(last_order_at as date), cast({now} as date)) as days_since_last_order,
    cast(revenue_12m as decimal(18, 2)) as revenue_12m,
    rfm.r as rfm_recency_score,
    rfm.f as rfm_frequency_score,
    rfm.m as rfm_monetary_score,
    segments.segment_name as rfm_segment,
    categories.product_categories
from totals
left join rfm on rfm.person_id = totals.person_id
left join staging.rfm_segments as segments
    on rfm.r between segments.recency_score_min and segments.recency_score_max
    and rfm.f between segments.frequency_score_min and segments.frequency_score_max
left join categories on categories.person_id = totals.person_id;
"""


WEB_COLUMNS = (
    "session_count", "page_view_count", "product_view_count", "cart_add_count",
    "last_cart_add_at", "web_first_seen_at", "web_last_seen_at", "first_touch_utm_source",
    "first_touch_utm_medium", "first_touch_utm_campaign", "last_touch_utm_source",
    "last_touch_utm_medium", "last_touch_utm_campaign", "preferred_device",
)  # fmt: skip
ORDER_COLUMNS = (
    "order_count", "revenue_order_count", "revenue", "average_order_value", "first_order_at",
    "last_order_at", "days_since_last_order", "revenue_12m", "rfm_recency_score",
    "rfm_frequency_score", "rfm_monetary_score", "rfm_segment", "product_categories",
)  # fmt: skip


def compare_traits(
    con: duckdb.DuckDBPyConnection, ours: str, theirs: str, columns: tuple[str, ...]
) -> dict[str, int]:
    """Persons on either side, and how many differ in any column (per column too)."""
    differs = ", ".join(
        f"count(*) filter (where a.{c} is distinct from b.{c}) as {c}" for c in columns
    )
    row = con.execute(
        f"""
        select
            count(*) filter (where b.person_id is null) as only_baseline,
            count(*) filter (where a.person_id is null) as only_klant,
            count(*) filter (where a.person_id is not null and b.person_id is not null) as both,
            {differs}
        from {ours} as a full outer join {theirs} as b on b.person_id = a.person_id
        """
    ).fetchall()[0]
    names = ["only_baseline", "only_klant", "both", *columns]
    result = dict(zip(names, row, strict=True))
    result["differing_columns"] = {c: result.pop(c) for c in columns if result[c]}
    for c in columns:
        result.pop(c, None)
    return result


def traits_baseline(con: duckdb.DuckDBPyConnection, as_of: str) -> dict:
    """Time the hand-written trait script; compare its answers with klant's trait models."""
    started = time.perf_counter()
    con.execute(traits_sql(as_of)).fetchall()
    seconds = time.perf_counter() - started
    web = compare_traits(con, "bench_web_traits", "intermediate.int_person_web_traits", WEB_COLUMNS)
    orders = compare_traits(
        con, "bench_order_traits", "intermediate.int_person_order_traits", ORDER_COLUMNS
    )
    return {"seconds": seconds, "web_check": web, "order_check": orders}
