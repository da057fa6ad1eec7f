"""One Dagster asset per segment: after publication, export it to the destinations it lists."""

import dagster as dg

from klant.activation.destinations import (
    Destination,
    Segment,
    UnknownDestination,
    load_destinations,
    resolve,
    seed_path,
    segments,
)
from klant.activation.exports import ExportError, export_segment
from klant.resources import KlantConfig

PUBLISHED = dg.AssetKey("published")


def _segment_asset(segment: Segment, known: dict[str, Destination]) -> dg.AssetsDefinition:
    @dg.asset(
        key=["activation", segment.name],
        group_name="activation",
        deps=[PUBLISHED],
        kinds={"csv"},
        description=(
            f"Export segment {segment.name} of the published build to "
            f"{', '.join(segment.destinations)} (full list, adds, removes, manifest)."
        ),
    )
    def _export(context: dg.AssetExecutionContext, klant: KlantConfig) -> dg.MaterializeResult:
        try:
            results = export_segment(klant.settings, segment, resolve(segment, known))
        except (UnknownDestination, ExportError) as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error
        metadata: dict[str, object] = {"build_id": results[0].build_id if results else None}
        for result in results:
            state = "exported" if result.written else "already exported"
            context.log.info(
                f"{segment.name} -> {result.destination}: {state} build {result.build_id}, "
                f"{result.counts['exported_rows']} rows (+{result.counts['adds']} "
                f"-{result.counts['removes']}) in {result.folder}"
            )
            metadata[f"{result.destination}/folder"] = dg.MetadataValue.path(str(result.folder))
            metadata[f"{result.destination}/previous_build_id"] = result.previous_build_id
            for name, value in result.counts.items():
                metadata[f"{result.destination}/{name}"] = value
        return dg.MaterializeResult(metadata=metadata)

    return _export


def build_activation_assets(
    manifest: dict, destinations: dict[str, Destination] | None = None
) -> list[dg.AssetsDefinition]:
    """An export asset for every segment model that lists destinations in its YAML.

    Destinations come from the activation_destinations seed. A name the seed does not have
    fails that segment's export with a message naming the YAML to fix, and leaves the rest of
    the code location (and the other segments' exports) working.
    """
    known = destinations if destinations is not None else load_destinations(seed_path(manifest))
    return [
        _segment_asset(segment, known) for segment in segments(manifest) if segment.destinations
    ]
