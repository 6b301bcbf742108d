"""``score`` (maps you already have) and ``run`` (predict, cache, score)."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import parse_option_pairs
from .app import cli
from .common import (
    dataset_from,
    dataset_options,
    err_console,
    present_result,
    progress_bar,
    protocol_from,
    protocol_options,
    protocols_from,
    warn_plugin_failures,
)
from .compare import ci_options, ci_settings
from .leaderboard import save_options, save_result_copy


@cli.command(short_help="Score existing maps (any method's) against a dataset's GT.")
@click.option("--maps", "maps_dir", required=True, type=click.Path(path_type=Path), help="Folder of predicted maps.")
@dataset_options
@click.option("--map-suffix", default="", help="Map file name = <stem><suffix>.<ext>, e.g. _HiFSTBlurMap.")
@click.option(
    "--map-polarity",
    type=click.Choice(["focus", "blur"]),
    default="focus",
    show_default=True,
    help="White map pixels mean in focus, or blurred.",
)
@protocol_options
@click.option("--allow-missing", is_flag=True, help="Score the GT images that have a map; report how many have none.")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable files and report them, instead of stopping.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="Threads decoding files.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Also write result[.<split>.<protocol>].json and per_image[...].csv into this folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--name", help="The method's name in results and leaderboards (default: the maps folder's name).")
@click.option("--kind", type=click.Choice(["handcrafted", "learned"]), help="The method's kind, for leaderboards.")
@click.option("--paper", help="The method's paper, e.g. 'Zhao et al., TIP 2021', for leaderboards.")
@click.option("--training-data", help="What the method was trained on, for leaderboards.")
@ci_options
@save_options
def score(maps_dir, out, as_json, name, save_to_leaderboard, leaderboard_dir, **kw):
    """Score precomputed maps from any method against a dataset's ground truth."""
    from ..api import list_samples, result_name, score_maps
    from ..errors import DbdbenchError
    from ..results import write_result

    warn_plugin_failures()
    if name is not None and (not name.strip() or "/" in name or name.startswith(".")):
        raise DbdbenchError(f"--name {name!r}: expected a name usable as a file name (no '/', not starting with '.')")
    every = kw.get("protocol") == "all"  # every protocol side by side (docs/protocols.md)
    protocols = protocols_from(kw)
    protocol = protocols[0]
    ci = ci_settings(kw)
    subset = kw.pop("subset")
    # What score_maps takes as it is; the dataset and protocol options stay in kw for dataset_from.
    scoring = {key: kw.pop(key) for key in ("map_suffix", "map_polarity", "allow_missing", "skip_bad", "workers")}
    described = {"name": name, **{key: kw.pop(key) for key in ("kind", "paper", "training_data")}}
    if not Path(maps_dir).is_dir():  # before the dataset is listed (and may warn about it)
        raise DbdbenchError(f"--maps {maps_dir}: not a folder")
    dataset = dataset_from(kw)
    listing = list_samples(dataset, subset=subset)
    method = {"id": name or Path(maps_dir).name, "maps": str(maps_dir)}
    method.update({key: value for key, value in described.items() if value})
    scoring.update(method=method, ci=ci)
    if every:
        from .side_by_side import score_every_protocol

        save_to = leaderboard_dir if save_to_leaderboard else None
        score_every_protocol(
            maps_dir, dataset, listing, protocols, subset=subset, out=out, as_json=as_json, save_to=save_to, **scoring
        )
        return
    with progress_bar("scoring", len(listing.samples)) as advance:
        result, per_image = score_maps(maps_dir, dataset, listing, protocol, progress=advance, **scoring)
    stem = result_name(dataset, protocol, None, subset)
    if out is not None:
        write_result(out, result, per_image, name=stem)
    if save_to_leaderboard:
        save_result_copy(result, result.method["id"], stem, leaderboard_dir)
    warn_result(result)
    present_result(result, as_json)


# ------------------------------------------------------------------ run


@cli.command(short_help="Run a method on a dataset: predict, cache the maps, score them.")
@click.option("--method", "method_id", required=True, help="Method id (see 'dbdbench list methods').")
@dataset_options(default="synth")
@click.option("--option", "method_option", multiple=True, metavar="KEY=VALUE", help="Method option (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N images (sorted by name).")
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="auto, cpu or cuda (learned methods; handcrafted ones use the CPU).",
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True, help="Runs folder.")
@protocol_options
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Processes predicting in parallel."
)
@click.option("--force", is_flag=True, help="Recompute maps even if cached.")
@click.option("--skip-bad", is_flag=True, help="Skip images that fail and report them, instead of stopping.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@ci_options
@save_options
def run(method_id, method_option, limit, device, as_json, save_to_leaderboard, leaderboard_dir, **kw):
    """Run a method on a dataset: predict, cache maps as PNG, score from the cache."""
    from ..api import list_samples, result_name, run_method
    from ..prepare import prepare_method

    warn_plugin_failures()
    protocol = protocol_from(kw)
    ci = ci_settings(kw)
    subset = kw.pop("subset")
    running = {key: kw.pop(key) for key in ("out", "force", "skip_bad", "workers")}  # what run_method takes as it is
    # Usage errors (method, option, device) first: before any dataset is listed (and may warn about it).
    prepared = prepare_method(method_id, parse_option_pairs(method_option), device)
    if prepared.note:
        err_console().print(f"note: {prepared.note}")
    dataset = dataset_from(kw, default_dataset="synth")  # the embedded default, as the README says
    listing = list_samples(dataset, subset=subset, limit=limit)
    stem = result_name(dataset, protocol, limit, subset)
    with progress_bar(f"{method_id} on {dataset.name}", len(listing.samples)) as advance:
        result, run_dir = run_method(
            prepared, dataset, listing, protocol, result_stem=stem, progress=advance, ci=ci, **running
        )
    if not as_json:
        err_console().print(f"maps and results in {run_dir}")
    if save_to_leaderboard:
        save_result_copy(result, prepared.row, stem, leaderboard_dir)
    warn_result(result)
    present_result(result, as_json)


def warn_result(result) -> None:
    """The result's advisory warnings (a polarity that looks wrong, dbdbench.polarity), one line each on stderr."""
    for warning in result.warnings:
        err_console().print(f"warning: {warning['message']}")
