"""The benchmark's extra runs: the new day of the incremental run and the long identity chains.

The data they make is checked here (shapes, times, ids, that klant's loader takes it); no run is
timed. The sample exports in seeds/ stand in for a benchmark size.
"""

import csv
import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from bench import chains, newday
from bench.report import markdown
from bench.run import identity_recomputed
from klant.ingest.loader import load_source
from klant.ingest.sources import COMMERCE, WEB
from klant.settings import REPO_ROOT

SEEDS = REPO_ROOT / "seeds"
DAY = date(2026, 11, 29)


def test_shift_event_keeps_the_time_of_day_and_the_gaps() -> None:
    event = {
        "messageId": "m-1",
        "type": "track",
        "timestamp": "2025-12-21T06:23:59.415Z",
        "sentAt": "2025-12-21T06:24:00.208Z",
        "receivedAt": "2025-12-21T06:24:00.276Z",
        "properties": {"x": 1},
    }
    moved = newday.shift_event(event, DAY)
    assert moved["timestamp"] == "2026-11-29T06:23:59.415Z"
    assert moved["sentAt"] == "2026-11-29T06:24:00.208Z"
    assert moved["receivedAt"] == "2026-11-29T06:24:00.276Z"
    assert moved["properties"] == {"x": 1}
    assert moved["messageId"] != "m-1"
    assert moved["messageId"] == newday.shift_event(event, DAY)["messageId"]
    assert event["timestamp"] == "2025-12-21T06:23:59.415Z"  # the original is untouched


def test_new_events_sample_is_deterministic_and_leaves_orders_out() -> None:
    files = sorted((SEEDS / "web").glob("*.jsonl"))
    total = sum(1 for path in files for _ in path.open("rb"))
    first = newday.new_events(files, DAY, seed=7, share=0.05)
    assert first == newday.new_events(files, DAY, seed=7, share=0.05)
    assert first != newday.new_events(files, DAY, seed=8, share=0.05)
    assert 0.03 * total < len(first) < 0.07 * total
    events = [json.loads(line) for line in first]
    assert {e["timestamp"][:10] for e in events} == {DAY.isoformat()}
    assert not [e for e in events if e.get("event") == "Order Completed"]
    assert len({e["messageId"] for e in events}) == len(events)


def test_new_orders_renumber_whole_orders_onto_the_day() -> None:
    files = sorted((SEEDS / "commerce").glob("*.csv"))
    header, rows = newday.new_orders(files, DAY, seed=7, share=0.1)
    name_at, created_at = header.index("Name"), header.index("Created at")
    old_rows = [r for path in files for r in list(csv.reader(path.open(encoding="utf-8")))[1:]]
    old_numbers = [
        int(r[name_at].lstrip("#")) for r in old_rows if r[name_at].lstrip("#").isdigit()
    ]
    names = Counter(r[name_at] for r in rows)
    assert len(names) > 10
    assert min(int(n.lstrip("#")) for n in names) == max(old_numbers) + 1
    for row in rows:
        created = datetime.strptime(row[created_at], "%Y-%m-%d %H:%M:%S %z")
        assert created.date() == DAY
    # an order keeps all its lines: the line counts per order are those of some old orders
    old_counts = Counter(r[name_at] for r in old_rows)
    assert set(names.values()) <= set(old_counts.values())


def test_build_landing_links_the_old_files_and_adds_the_day_loadable(tmp_path: Path) -> None:
    target = tmp_path / "landing"
    added = newday.build_landing(SEEDS, target, DAY, seed=3, share=0.05)
    originals = [p for p in SEEDS.rglob("*") if p.is_file() and "ground_truth" not in p.parts]
    links = [p for p in target.rglob("*") if p.is_symlink()]
    assert len(links) == len(originals)
    new_web = target / "web" / f"segment-events-{DAY}.jsonl"
    new_orders = target / "commerce" / f"orders_export_{DAY}.csv"
    assert not new_web.is_symlink() and not new_orders.is_symlink()
    con = duckdb.connect()
    alone = tmp_path / "alone"
    for path, spec, expected in (
        (new_web, WEB, added["web_events"]),
        (new_orders, COMMERCE, added["orders_rows"]),
    ):
        (alone / spec.folder).mkdir(parents=True)
        (alone / spec.folder / path.name).write_bytes(path.read_bytes())
        [result] = load_source(con, spec, alone)
        assert result.status == "loaded"
        # the sample's deliberately bad lines come along as they are, and are quarantined again
        assert result.rows_loaded + result.rows_quarantined == expected > 0
        assert result.rows_quarantined <= 0.02 * expected


def test_chain_events_are_long_paths_that_klant_loads(tmp_path: Path) -> None:
    events = chains.chain_events(3, 40, "2026-11-28")
    assert len(events) == 3 * 2 * 39
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    degree: Counter = Counter()
    for event in events:
        cookie, email = "c:" + event["anonymousId"], "e:" + event["traits"]["email"]
        parent[find(cookie)] = find(email)
        degree[(cookie, email)] += 1
    groups = Counter(find(node) for node in parent)
    assert sorted(groups.values()) == [79, 79, 79]  # 40 cookies and 39 e-mails in a path each
    assert set(degree.values()) == {1}  # every link once: a path, not a star
    ends = Counter(node for pair in degree for node in pair)
    assert sorted(Counter(ends.values()).items()) == [(1, 6), (2, 231)]
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "chains.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    [result] = load_source(duckdb.connect(), WEB, tmp_path)
    assert (result.rows_loaded, result.rows_quarantined) == (len(events), 0)


def _measured(wall: float) -> dict:
    return {
        "stages": [
            {
                "stage": "ingest",
                "seconds": wall / 2,
                "node_seconds": None,
                "rows_in": 10,
                "rows_out": 9,
                "peak_rss_mb": 100,
            }
        ],
        "dbt_overhead_seconds": 1.0,
        "dagster_overhead_seconds": 0.5,
        "wall_seconds": wall,
        "peak_rss_mb": 120,
    }


def test_report_shows_chains_and_the_incremental_run() -> None:
    result = {
        "size": "10k",
        "people": 10_000,
        "as_of": "2026-11-29 00:00:00",
        "measured_at": "now",
        "machine": {"cpus": 2, "memory_gb": 24, "load_average_at_start": [1, 1, 1]},
        "export_lines": {"web_events": 1, "orders_rows": 1, "crm_contacts": 1},
        **_measured(100.0),
        "chains": {
            "without": {"seconds": 10.0, "node_seconds": 12.0, "events_added": 0},
            "with": {"seconds": 13.0, "node_seconds": 15.0, "events_added": 19_980},
            "chains": 10,
            "chain_length": 1000,
            "ratio": 1.3,
        },
        "incremental": {
            "day": "2026-11-29",
            "as_of": "2026-11-30 00:00:00",
            "added": {"web_events": 321, "orders_rows": 45, "orders": 20},
            **_measured(12.0),
            "share_of_full": 0.12,
            "identity_reach": {
                "since": "2026-11-29",
                "touched_identifiers": 40,
                "touched_groups": 30,
                "identifiers_reached": 200,
                "identifiers": 1000,
                "identifier_share": 0.2,
                "links_reached": 500,
                "links": 2000,
                "link_share": 0.25,
            },
            "identity_recomputed": {
                "identifiers_recomputed": 120,
                "identifiers": 1000,
                "identifier_share": 0.12,
                "model_seconds": 2.5,
                "model_seconds_full": 10.0,
            },
        },
    }
    text = markdown(result)
    assert (
        "computed the links of 120 of 1,000 identifiers again (12.0%) in 2.5 s, "
        "against 10.0 s in the full run" in text
    )
    result["incremental"]["identity_recomputed"] = None
    assert "recomputed every link" in markdown(result)
    assert "hold 40 identifiers in 30 groups" in text
    assert "200 of 1,000 identifiers (20.0%) and 500 of 2,000 links (25.0%)" in text
    assert "| **ratio** | **1.30x** | |" in text
    assert "19,980 events" in text
    assert "Added 321 web events and 45 order rows (20 orders)" in text
    assert "12.0% of the full run's time" in text
    assert text.count("| **whole run** |") == 2


def test_next_day() -> None:
    day, as_of = newday.next_day("2026-11-29 00:00:00")
    assert day == date(2026, 11, 29)
    assert datetime.fromisoformat(as_of) - datetime(2026, 11, 29) == timedelta(days=1)


def test_identity_recomputed_reads_the_post_hook_line(tmp_path: Path) -> None:
    run_id = "abcdef0123456789"
    step = tmp_path / "dbt-target" / f"klant_dbt-{run_id[:7]}-0001"
    step.mkdir(parents=True)
    log = step / "dbt.log"
    log.write_text("12:00:01  Running with dbt=1.11\n")
    assert identity_recomputed(tmp_path, run_id) is None  # every link computed: no line
    log.write_text(
        "12:00:05  int_web_sessions: recomputed 7 of 9 persons\n"
        "12:00:06  int_identifier_links_limited: recomputed the links of 3 of 12 identifiers\n"
    )
    assert identity_recomputed(tmp_path, run_id) == {
        "identifiers_recomputed": 3,
        "identifiers": 12,
        "identifier_share": 0.25,
    }
    assert identity_recomputed(tmp_path, "fedcba9876543210") is None  # another run's step
