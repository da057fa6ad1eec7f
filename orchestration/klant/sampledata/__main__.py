"""Command line: python -m klant.sampledata --people 2000 --out seeds [--seed N]."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from klant.sampledata import DEFAULT_PEOPLE, DEFAULT_SEED, generate


def main(argv: list[str] | None = None) -> None:
    """Generate the sample exports and print the line count of each file."""
    parser = argparse.ArgumentParser(
        prog="python -m klant.sampledata",
        description="Write deterministic sample CRM, web and commerce exports plus ground truth.",
    )
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE, help="number of people")
    parser.add_argument("--out", type=Path, required=True, help="output (landing) folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.people, args.out, args.seed)
    elapsed = time.perf_counter() - started
    for name, count in counts.items():
        print(f"{count:>12,}  {args.out / name}")
    print(f"{args.people:,} people, seed {args.seed}, {elapsed:.1f} s")


if __name__ == "__main__":
    main()
