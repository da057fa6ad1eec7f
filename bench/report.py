"""A benchmark result as a markdown table."""


def _int(value: int | float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _sec(value: float | None) -> str:
    return "" if value is None else f"{value:,.1f}"


def stage_table(measured: dict) -> list[str]:
    """Per stage: seconds, share, node seconds, rows in and out, peak memory; overheads; total."""
    wall = measured["wall_seconds"]
    lines = [
        "| stage | seconds | share | dbt node seconds | rows in | rows out | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in measured["stages"]:
        share = f"{100 * row['seconds'] / wall:.0f}%" if wall else ""
        lines.append(
            f"| {row['stage']} | {_sec(row['seconds'])} | {share} | {_sec(row['node_seconds'])} "
            f"| {_int(row['rows_in'])} | {_int(row['rows_out'])} | {_int(row['peak_rss_mb'])} |"
        )
    return lines + [
        f"| dbt overhead (dbt steps minus node time) | {_sec(measured['dbt_overhead_seconds'])} "
        "| | | | | |",
        f"| Dagster overhead (run minus step time) | {_sec(measured['dagster_overhead_seconds'])} "
        "| | | | | |",
        f"| **whole run** | **{_sec(wall)}** | 100% | | | | **{_int(measured['peak_rss_mb'])}** |",
    ]


def largest_lines(measured: dict) -> list[str]:
    """The run's largest Dagster steps and dbt nodes, and the dbt tests' seconds per stage
    (nothing for a result measured before the bench recorded them)."""
    largest = measured.get("largest")
    if not largest:
        return []
    wall = measured["wall_seconds"]
    lines = [
        "",
        "The largest parts of this run (a Dagster step other than dbt's, or one dbt model, test "
        "or seed; a dbt node's seconds are its own, as dbt timed it):",
        "",
        "| part | kind | stage | seconds | share |",
        "|---|---|---|---:|---:|",
    ]
    for part in largest["parts"]:
        share = f"{100 * part['seconds'] / wall:.1f}%" if wall else ""
        lines.append(
            f"| {part['name']} | {part['kind']} | {part['stage']} | {_sec(part['seconds'])} "
            f"| {share} |"
        )
    tests = largest.get("dbt_tests") or {}
    if tests:
        count = sum(entry["tests"] for entry in tests.values())
        seconds = sum(entry["seconds"] for entry in tests.values())
        by_stage = ", ".join(
            f"{stage} {_sec(entry['seconds'])} ({entry['tests']})" for stage, entry in tests.items()
        )
        lines += [
            "",
            f"dbt's {count} tests took {_sec(seconds)} s of the dbt stages' node seconds; by stage "
            f"(seconds, tests): {by_stage}.",
        ]
    return lines


def dbt_threads_note(threads: int | None) -> str:
    """How to read the dbt stages' seconds, by the number of threads dbt ran nodes on."""
    if threads == 1:
        return (
            "dbt ran one model at a time: a dbt stage's seconds are the wall time covered by its "
            "nodes, and its node seconds are the sum of the nodes' own times."
        )
    return (
        f"dbt ran {threads or 'an unrecorded number of'} threads: a dbt stage's seconds are the "
        "wall time covered by its nodes, so stages may overlap; node seconds are the sum of the "
        "nodes' own times, each slowed by the nodes running beside it."
    )


def markdown(result: dict) -> str:
    """Per stage: seconds, rows in and out, peak memory; then overheads and the baselines."""
    lines = [
        f"# klant benchmark: {result['people']:,} people ({result['size']})",
        "",
        f"Measured {result['measured_at']} on {result['machine']['cpus']} CPUs, "
        f"{result['machine']['memory_gb']} GB, DuckDB memory limit "
        f"{result['machine'].get('duckdb_memory_limit', 'not recorded')} (dbt's models: "
        f"{result['machine'].get('dbt_memory_limit', 'the same')}; load average at start "
        f"{', '.join(str(x) for x in result['machine']['load_average_at_start'])}); "
        f"as of {result['as_of']}. Exports: {_int(result['export_lines']['web_events'])} web "
        f"events, {_int(result['export_lines']['orders_rows'])} order rows, "
        f"{_int(result['export_lines']['crm_contacts'])} CRM contacts.",
        "",
        *stage_table(result),
        "",
        dbt_threads_note(result.get("dbt_threads")),
        *largest_lines(result),
    ]
    base = result.get("baselines")
    if base:
        identity, traits = base["identity"], base["traits"]
        partition = identity["partition"]
        seconds = identity["seconds"]
        lines += [
            "",
            "## Baselines (same data, same run)",
            "",
            "| compared | klant s | baseline s | ratio | check |",
            "|---|---:|---:|---:|---|",
            f"| identity stage vs scipy connected_components ({_int(identity['nodes'])} nodes, "
            f"{_int(identity['edges'])} kept links; mapping {seconds['mapping']:.2f} + grouping "
            f"{seconds['grouping']:.2f} + write-back {seconds['write_back']:.2f} s) "
            f"| {_sec(identity['klant_identity_seconds'])} | {seconds['total']:.2f} "
            f"| {identity['ratio']:.2f}x | "
            f"{'same partition' if partition['same'] else 'DIFFERENT partition'} "
            f"({_int(partition['left_groups'])} groups) |",
            f"| profiles-and-traits stage vs hand-written SQL traits "
            f"| {_sec(traits['klant_profiles_seconds'])} | {traits['seconds']:.2f} "
            f"| {traits['ratio']:.2f}x | {_trait_check(traits)} |",
        ]
        if identity.get("graph_models_ratio") is not None:
            lines.append(
                f"| the graph models only ({', '.join(identity['graph_models'])}; dbt node "
                f"seconds) vs the same scipy baseline | "
                f"{_sec(identity['klant_graph_models_seconds'])} "
                f"| {seconds['total']:.2f} | {identity['graph_models_ratio']:.2f}x | |"
            )
        if traits.get("trait_models_ratio") is not None:
            lines.append(
                f"| the 7 trait models only (dbt node seconds) vs the same SQL "
                f"| {_sec(traits['klant_trait_models_seconds'])} | {traits['seconds']:.2f} "
                f"| {traits['trait_models_ratio']:.2f}x | |"
            )
    chains = result.get("chains")
    if chains:
        without, with_ = chains["without"], chains["with"]
        lines += [
            "",
            f"## Long chains ({chains['chains']} chains of {chains['chain_length']:,} linked "
            "anonymous ids)",
            "",
            "The identity models and their tests built on two copies of this run's build file, "
            f"one with the chains' {_int(with_['events_added'])} events loaded.",
            "",
            "| identity stage | seconds | dbt node seconds |",
            "|---|---:|---:|",
            f"| without chains | {_sec(without['seconds'])} | {_sec(without['node_seconds'])} |",
            f"| with chains | {_sec(with_['seconds'])} | {_sec(with_['node_seconds'])} |",
            f"| **ratio** | **{chains['ratio']:.2f}x** | |",
        ]
    incremental = result.get("incremental")
    if incremental:
        added = incremental["added"]
        lines += [
            "",
            f"## Incremental run: one more day ({incremental['day']}, as of "
            f"{incremental['as_of']})",
            "",
            f"Added {_int(added['web_events'])} web events and {_int(added['orders_rows'])} order "
            f"rows ({_int(added['orders'])} orders); the run took "
            f"{100 * incremental['share_of_full']:.1f}% of the full run's time.",
            "",
            *stage_table(incremental),
            *largest_lines(incremental),
        ]
        reach = incremental.get("identity_reach")
        if reach:
            lines += ["", *identity_reach_lines(reach, incremental.get("identity_recomputed"))]
    return "\n".join(lines) + "\n"


def identity_reach_lines(reach: dict, recomputed: dict | None = None) -> list[str]:
    """What the day's records reach of the identity graph (baselines.identity_reach), and what
    the run's identity rules computed again (run.identity_recomputed)."""
    if recomputed is None:
        done = "This run's identity stage recomputed every link."
    else:
        done = (
            f"This run's int_identifier_links_limited computed the links of "
            f"{_int(recomputed['identifiers_recomputed'])} of {_int(recomputed['identifiers'])} "
            f"identifiers again ({100 * recomputed['identifier_share']:.1f}%)"
        )
        if recomputed.get("model_seconds") is not None:
            done += f" in {_sec(recomputed['model_seconds'])} s"
            if recomputed.get("model_seconds_full") is not None:
                done += f", against {_sec(recomputed['model_seconds_full'])} s in the full run"
        done += "; every other link kept its verdict."
    return [
        f"Identity reach: the records observed since {reach['since']} hold "
        f"{_int(reach['touched_identifiers'])} identifiers in {_int(reach['touched_groups'])} "
        "groups of links (kept or dropped by the limits); those groups hold "
        f"{_int(reach['identifiers_reached'])} of {_int(reach['identifiers'])} identifiers "
        f"({100 * reach['identifier_share']:.1f}%) and {_int(reach['links_reached'])} of "
        f"{_int(reach['links'])} links ({100 * reach['link_share']:.1f}%): what an identity "
        f"stage recomputing only the groups a day touches recomputes. {done}",
    ]


def _trait_check(traits: dict) -> str:
    parts = []
    for name in ("web_check", "order_check"):
        check = traits[name]
        differing = check["differing_columns"]
        agreed = not differing and not check["only_baseline"] and not check["only_klant"]
        label = name.removesuffix("_check")
        parts.append(
            f"{label}: {'same' if agreed else 'DIFFERENT'} for {_int(check['both'])} persons"
            + (f" ({', '.join(f'{c} {n}' for c, n in differing.items())})" if differing else "")
        )
    return "; ".join(parts)
