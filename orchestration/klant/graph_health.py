"""Identity graph health on the build, and identity quality against a ground truth when one exists.

Health checks block publication: a person holding an implausible number of identifiers (a junk
value that slipped through and glued strangers together), an identifier owned by two persons,
or a person count that jumps against the build readers see now. Quality needs the generator's
ground truth (sample and benchmark data) and is reported, not enforced.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from klant.warehouse import relation_exists

DEFAULT_MAX_GROUP_SIZE = 200
DEFAULT_MAX_PERSON_COUNT_CHANGE = 0.2

IDENTIFIERS = "marts.dim_person_identifiers"
PROFILES = "marts.dim_profiles"
RECORDS = "intermediate.int_records_resolved"


@dataclass
class HealthOutcome:
    """One graph-health check: passed or not, with the figures behind the verdict."""

    name: str
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def max_group_size() -> int:
    """Most identifiers one person may hold (KLANT_MAX_PERSON_GROUP_SIZE)."""
    return int(os.environ.get("KLANT_MAX_PERSON_GROUP_SIZE", DEFAULT_MAX_GROUP_SIZE))


def max_person_count_change() -> float:
    """Largest relative person-count change between builds (KLANT_MAX_PERSON_COUNT_CHANGE)."""
    return float(os.environ.get("KLANT_MAX_PERSON_COUNT_CHANGE", DEFAULT_MAX_PERSON_COUNT_CHANGE))


def largest_group(con: duckdb.DuckDBPyConnection, bound: int) -> HealthOutcome:
    rows = con.execute(
        f"select person_id, count(*) as n from {IDENTIFIERS} group by person_id "
        "order by n desc, person_id limit 5"
    ).fetchall()
    largest = rows[0][1] if rows else 0
    return HealthOutcome(
        name="identity_largest_group",
        passed=largest <= bound,
        description=f"the largest person holds {largest} identifiers (bound {bound})",
        metadata={
            "largest_group": largest,
            "bound": bound,
            "largest_persons": [f"{p}: {n}" for p, n in rows],
        },
    )


def identifiers_in_two_persons(con: duckdb.DuckDBPyConnection) -> HealthOutcome:
    rows = con.execute(
        f"select identifier_type, count(*) from (select identifier_type, identifier_value "
        f"from {IDENTIFIERS} group by 1, 2 having count(distinct person_id) > 1) group by 1"
    ).fetchall()
    total = sum(n for _, n in rows)
    return HealthOutcome(
        name="identity_identifier_in_one_person",
        passed=total == 0,
        description=f"{total} identifiers belong to more than one person",
        metadata={"identifiers_in_two_persons": total, "by_type": dict(rows)},
    )


def person_count_change(
    con: duckdb.DuckDBPyConnection, previous: int | None, bound: float
) -> HealthOutcome:
    current = con.execute(f"select count(*) from {PROFILES}").fetchone()[0]
    if not previous:
        return HealthOutcome(
            name="identity_person_count_change",
            passed=True,
            description=f"{current} persons; no published build to compare with",
            metadata={"persons": current},
        )
    change = (current - previous) / previous
    return HealthOutcome(
        name="identity_person_count_change",
        passed=abs(change) <= bound,
        description=(
            f"{current} persons against {previous} in the published build "
            f"({change:+.1%}, bound ±{bound:.0%})"
        ),
        metadata={"persons": current, "published_persons": previous, "change": change},
    )


def published_person_count(con: duckdb.DuckDBPyConnection, live_build: str | None) -> int | None:
    """Profiles in the build readers see now, from the publish log in the build file."""
    if live_build is None:
        return None
    if not relation_exists(con, "audit.publish_log"):
        return None
    row = con.execute(
        "select row_counts from audit.publish_log where build_id = ?", [live_build]
    ).fetchone()
    if not row or not row[0]:
        return None
    return json.loads(row[0]).get("main.dim_profiles")


@dataclass
class Quality:
    """How the person grouping compares with the true persons behind the records."""

    records: int
    resolved: int
    true_persons: int
    predicted_persons: int
    precision: float
    recall: float
    over_merged_persons: int  # predicted persons holding records of two or more true persons
    under_merged_people: int  # true persons whose records are spread over two or more persons

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def identity_quality(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> Quality:
    """Pairwise precision and recall of the record grouping against ground_truth/records.csv.

    Only records of known persons (ground truth kind = person) count; malformed rows, which
    never load, are left out.
    """
    people, records = truth_dir / "people.csv", truth_dir / "records.csv"
    con.execute(
        "create or replace temp table _truth as "
        "select r.source, r.record_key, r.person_key "
        f"from read_csv('{records}', all_varchar = true) as r "
        f"join read_csv('{people}', all_varchar = true) as p using (person_key) "
        "where p.kind = 'person' and coalesce(r.flags, '') not like '%malformed%' "
        "group by all"
    )
    con.execute(
        "create or replace temp table _pairs as "
        f"select t.person_key, r.person_id from _truth as t left join {RECORDS} as r "
        "using (source, record_key)"
    )
    figures = con.execute(
        """
        with resolved as (select * from _pairs where person_id is not null),
        both_ as (select count(*) as n from resolved group by person_key, person_id),
        by_pred as (select count(*) as n, count(distinct person_key) as truths
                    from resolved group by person_id),
        by_true as (select count(*) as n, count(distinct person_id) as preds
                    from resolved group by person_key)
        select
            (select count(*) from _pairs),
            (select count(*) from resolved),
            (select count(distinct person_key) from _pairs),
            (select count(*) from by_pred),
            (select coalesce(sum(n * (n - 1) / 2), 0) from both_),
            (select coalesce(sum(n * (n - 1) / 2), 0) from by_pred),
            (select coalesce(sum(n * (n - 1) / 2), 0) from by_true),
            (select count(*) from by_pred where truths > 1),
            (select count(*) from by_true where preds > 1)
        """
    ).fetchone()
    records_n, resolved, truths, preds, together, pred_pairs, true_pairs, over, under = figures
    return Quality(
        records=records_n,
        resolved=resolved,
        true_persons=truths,
        predicted_persons=preds,
        precision=float(together / pred_pairs) if pred_pairs else 1.0,
        recall=float(together / true_pairs) if true_pairs else 1.0,
        over_merged_persons=over,
        under_merged_people=under,
    )


def write_quality_report(quality: Quality, path: Path) -> None:
    """The figures as JSON and as a small markdown table next to it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(quality.as_dict(), indent=2, sort_keys=True) + "\n")
    lines = ["| measure | value |", "|---|---|"]
    for key, value in quality.as_dict().items():
        shown = f"{value:.4f}" if isinstance(value, float) else f"{value:,}"
        lines.append(f"| {key.replace('_', ' ')} | {shown} |")
    path.with_suffix(".md").write_text("# Identity quality\n\n" + "\n".join(lines) + "\n")
