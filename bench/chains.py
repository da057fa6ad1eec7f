"""The identity stage with and without long chains of linked anonymous ids, on the same build.

A chain is 1,000 anonymous ids (cookies) joined one to the next by an e-mail typed on both
devices: cookie 1 and e-mail 1 on one event, cookie 2 and e-mail 1 on the next, cookie 2 and
e-mail 2 on the one after, and so on: a path of about 2,000 identifiers, the worst shape for
label propagation. Ids are random, so the smallest label starts anywhere along the path. The
identity rules then drop the chain's cookies (far more e-mails in one group than a person has),
which is what they should do; what is timed is how long the graph takes to find that out.

Both sides start from copies of the full run's build file. The chain events go through klant's
own loader and identifier dictionary, then `stg_web__events` is rebuilt on both copies (not
timed) and the identity models are built with their tests (timed, dbt's run_results), every
link computed again (var klant__identity_incremental false).
"""

import json
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from bench.dbt_cli import dbt_on
from bench.stages import node_stage, split_dbt, union_seconds
from klant.identity.dictionary import default_phone_region, update_dictionary
from klant.ingest.loader import load_source
from klant.ingest.sources import WEB
from klant.settings import dbt_vars, duckdb_config

CHAINS = 10
CHAIN_LENGTH = 1_000
IDENTITY_MODELS = "path:models/intermediate/identity"
SEED = 20261130


def _uuid(rng: random.Random) -> str:
    digits = f"{rng.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:32]}"


def chain_events(chains: int, length: int, day: str, seed: int = SEED) -> list[dict]:
    """Identify events forming `chains` paths of `length` cookies linked by e-mails."""
    rng = random.Random(seed)
    events = []
    for chain in range(chains):
        cookies = [_uuid(rng) for _ in range(length)]
        emails = [f"chain{chain}.{rng.getrandbits(40):010x}@example.org" for _ in range(length - 1)]
        second = 0
        for i, email in enumerate(emails):
            for cookie in (cookies[i], cookies[i + 1]):
                second += 1
                events.append(
                    {
                        "messageId": _uuid(rng),
                        "type": "identify",
                        "anonymousId": cookie,
                        "userId": None,
                        "traits": {"email": email},
                        "timestamp": f"{day}T{second // 3600 % 24:02d}:{second // 60 % 60:02d}:"
                        f"{second % 60:02d}.000Z",
                    }
                )
    return events


def _dbt(args: list[str], build_db: Path, target: Path, as_of: str, **variables) -> None:
    dbt_on(args, build_db, target, {**dbt_vars(), "klant__as_of": as_of, **variables})


def identity_timing(build_db: Path, target: Path, as_of: str) -> dict:
    """Rebuild the web events' staging (untimed), then time the identity models and their tests."""
    staging = ["stg_web__event_deliveries", "stg_web__events"]
    _dbt(["run", "--select", *staging], build_db, target / "staging", as_of)
    # every link computed again on both sides: what is timed is the whole graph's propagation,
    # not a run that recomputes only the link groups a change touches (the chains alone)
    _dbt(
        ["build", "--select", IDENTITY_MODELS],
        build_db,
        target / "identity",
        as_of,
        klant__identity_incremental=False,
    )
    manifest = json.loads((target / "identity" / "manifest.json").read_text())
    results = json.loads((target / "identity" / "run_results.json").read_text())
    identity = split_dbt(manifest, results).get("identity", {"windows": [], "node_seconds": 0})
    models = [
        r
        for r in results["results"]
        if r["unique_id"].startswith("model.")
        and node_stage(manifest, r["unique_id"]) == "identity"
    ]
    return {
        "seconds": round(union_seconds(identity["windows"]), 3),
        "node_seconds": round(identity["node_seconds"], 3),
        "models": {r["unique_id"].split(".")[-1]: round(r["execution_time"], 3) for r in models},
    }


def _staged_chain_events(build_db: Path) -> int:
    """The chain events (their e-mails are chain<n>.<hex>@example.org) in stg_web__events."""
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        return con.execute(
            "select count(*) from staging.stg_web__events "
            "where regexp_full_match(trait_email, 'chain[0-9]+\\.[0-9a-f]{10}@example\\.org')"
        ).fetchone()[0]
    finally:
        con.close()


def compare(work: Path, as_of: str) -> dict:
    """Identity stage seconds without and with the chains, on copies of work's build file."""
    build = work / "warehouse" / "build.duckdb"
    sides = {}
    for side in ("without", "with"):
        folder = work / f"chains-{side}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        copy = folder / "build.duckdb"
        shutil.copyfile(build, copy)
        added = 0
        if side == "with":
            landing = folder / "landing"
            (landing / "web").mkdir(parents=True)
            day = (datetime.fromisoformat(as_of) - timedelta(days=1)).date().isoformat()
            events = chain_events(CHAINS, CHAIN_LENGTH, day)
            (landing / "web" / "chains.jsonl").write_text(
                "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
            )
            con = duckdb.connect(str(copy), config=duckdb_config())
            loaded = load_source(con, WEB, landing)
            update_dictionary(con, default_phone_region())
            con.close()
            added = sum(result.rows_loaded for result in loaded)
            if added != len(events):
                raise RuntimeError(f"only {added} of {len(events)} chain events loaded: {loaded}")
        sides[side] = {"events_added": added, **identity_timing(copy, folder / "dbt-target", as_of)}
        staged = _staged_chain_events(copy)
        if staged != added:
            raise RuntimeError(f"{staged} of the {added} chain events reached staging")
        copy.unlink()
    sides["chains"] = CHAINS
    sides["chain_length"] = CHAIN_LENGTH
    sides["ratio"] = round(sides["with"]["seconds"] / sides["without"]["seconds"], 3)
    return sides
