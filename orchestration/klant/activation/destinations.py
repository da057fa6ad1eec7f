"""Activation destinations (seed activation_destinations) and the segments that name them."""

import csv
from dataclasses import dataclass
from pathlib import Path

from klant.settings import DBT_PROJECT_DIR

DESTINATIONS_SEED = "activation_destinations"
CONSENT_PURPOSES = ("email", "advertising", "personalization")
FILE_FORMATS = ("google_customer_match", "meta_custom_audience", "dmp")


class UnknownDestination(ValueError):
    """A segment names a destination the activation_destinations seed does not have."""


@dataclass(frozen=True)
class Destination:
    """One row of the seed: where a segment goes, in which file format, under which consent."""

    name: str
    file_format: str
    consent_purpose: str
    description: str = ""

    @property
    def consent_column(self) -> str:
        return f"consent_{self.consent_purpose}"


@dataclass(frozen=True)
class Segment:
    """A segment model of the dbt project and the destinations its YAML lists."""

    name: str
    table: str  # table name in the published store's `segments` schema
    destinations: tuple[str, ...]
    yaml_path: str  # where a user fixes a destination name


def seed_path(manifest: dict | None = None) -> Path:
    """The seed's CSV, where the manifest says it is (else the default seeds folder)."""
    for node in (manifest or {}).get("nodes", {}).values():
        if node.get("resource_type") == "seed" and node.get("name") == DESTINATIONS_SEED:
            return DBT_PROJECT_DIR / node["original_file_path"]
    return DBT_PROJECT_DIR / "seeds" / f"{DESTINATIONS_SEED}.csv"


def load_destinations(path: Path) -> dict[str, Destination]:
    """Destinations by name, checked: known file formats and consent purposes only."""
    destinations: dict[str, Destination] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            destination = Destination(
                name=row["destination"].strip(),
                file_format=row["file_format"].strip(),
                consent_purpose=row["consent_purpose"].strip(),
                description=(row.get("description") or "").strip(),
            )
            if destination.file_format not in FILE_FORMATS:
                raise ValueError(
                    f"{path}: destination {destination.name} has file_format "
                    f"{destination.file_format!r}; known formats: {', '.join(FILE_FORMATS)}"
                )
            if destination.consent_purpose not in CONSENT_PURPOSES:
                raise ValueError(
                    f"{path}: destination {destination.name} has consent_purpose "
                    f"{destination.consent_purpose!r}; known: {', '.join(CONSENT_PURPOSES)}"
                )
            destinations[destination.name] = destination
    return destinations


def segments(manifest: dict) -> list[Segment]:
    """The models tagged `segment` with their config.meta.destinations, in name order."""
    found = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or "segment" not in node.get("tags", []):
            continue
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        destinations = meta.get("destinations") or []
        if isinstance(destinations, str):
            destinations = [destinations]
        found.append(
            Segment(
                name=node["name"],
                table=node.get("alias") or node["name"],
                destinations=tuple(dict.fromkeys(destinations)),  # once each, in order
                yaml_path=node.get("patch_path") or node.get("original_file_path", ""),
            )
        )
    return sorted(found, key=lambda s: s.name)


def resolve(segment: Segment, destinations: dict[str, Destination]) -> list[Destination]:
    """The segment's destinations; an unknown name raises UnknownDestination saying where."""
    unknown = [name for name in segment.destinations if name not in destinations]
    if unknown:
        raise UnknownDestination(
            f"segment {segment.name} lists destination(s) {', '.join(map(repr, unknown))} "
            f"in config.meta.destinations ({segment.yaml_path.split('://')[-1]}), but the seed "
            f"{DESTINATIONS_SEED} only has: {', '.join(sorted(destinations))}"
        )
    return [destinations[name] for name in segment.destinations]
