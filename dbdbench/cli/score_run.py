"""``score`` (maps you already have) and ``run`` (predict, cache, score)."""

from __future__ import annotations

from pathlib import Path

import click

from ..methods import parse_option_pairs
from .app import cli
from .common import (
    dataset_from,
    dataset_options,
    err_console,
    present_result,
    progress_bar,
    protocol_from,
    protocol_options,
    warn_plugin_failures,
)


@cli.command()
@click.option("--maps", "maps_dir", required=True, type=click.Path(path_type=Path), help="Folder of predicted maps.")
@dataset_options
@click.option("--map-suffix", default="", help="Map file name = <stem><suffix>.<ext>, e.g. _HiFSTBlurMap.")
@click.option("--map-polarity", type=click.Choice(["focus", "blur"]), default="focus", show_default=True, help="White map pixels mean in focus, or blurred.")
@protocol_options
@click.option("--allow-missing", is_flag=True, help="Score the GT images that have a map; report how many have none.")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable files and report them, instead of stopping.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="Threads decoding files.")
@click.option("--out", type=click.Path(path_type=Path), help="Also write result[.<split>.<protocol>].json and per_image[...].csv into this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def score(maps_dir, map_suffix, map_polarity, allow_missing, skip_bad, workers, out, as_json, **kw):
    """Score precomputed maps from any method against a dataset's ground truth."""
    from ..api import list_samples, result_name, score_maps
    from ..results import write_result

    warn_plugin_failures()
    protocol = protocol_from(kw)
    subset = kw.pop("subset")
    dataset = dataset_from(kw)
    listing = list_samples(dataset, subset=subset)
    with progress_bar("scoring", len(listing.samples)) as advance:
        result, per_image = score_maps(
            maps_dir, dataset, listing, protocol, map_suffix=map_suffix, map_polarity=map_polarity,
            allow_missing=allow_missing, skip_bad=skip_bad, workers=workers, progress=advance,
        )
    if out is not None:
        write_result(out, result, per_image, name=result_name(dataset, protocol, None, subset))
    present_result(result, as_json)


# ------------------------------------------------------------------ run


@cli.command()
@click.option("--method", "method_id", required=True, help="Method id (see 'dbdbench list methods').")
@dataset_options
@click.option("--option", "method_option", multiple=True, metavar="KEY=VALUE", help="Method option (repeatable).")
@click.option("--limit", type=int, help="Only the first N images (sorted by name).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda (learned methods).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True, help="Runs folder.")
@protocol_options
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Processes predicting in parallel.")
@click.option("--force", is_flag=True, help="Recompute maps even if cached.")
@click.option("--skip-bad", is_flag=True, help="Skip images that fail and report them, instead of stopping.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def run(method_id, method_option, limit, device, out, workers, force, skip_bad, as_json, **kw):
    """Run a method on a dataset: predict, cache maps as PNG, score from the cache."""
    from ..api import list_samples, result_name, run_method

    warn_plugin_failures()
    protocol = protocol_from(kw)
    subset = kw.pop("subset")
    dataset = dataset_from(kw)
    listing = list_samples(dataset, subset=subset, limit=limit)
    n = len(listing.samples)
    with progress_bar(f"{method_id} on {dataset.name}", n) as advance:
        result, run_dir = run_method(
            method_id, dataset, listing, protocol, out=out, options=parse_option_pairs(method_option),
            device=device, force=force, skip_bad=skip_bad, workers=workers,
            result_stem=result_name(dataset, protocol, limit, subset), progress=advance,
        )
    if not as_json:
        err_console().print(f"maps and results in {run_dir}")
    present_result(result, as_json)

