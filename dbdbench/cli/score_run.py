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
def score(
    maps_dir,
    map_suffix,
    map_polarity,
    allow_missing,
    skip_bad,
    workers,
    out,
    as_json,
    name,
    kind,
    paper,
    training_data,
    save_to_leaderboard,
    leaderboard_dir,
    **kw,
):
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
    if not Path(maps_dir).is_dir():  # before the dataset is listed (and may warn about it)
        raise DbdbenchError(f"--maps {maps_dir}: not a folder")
    dataset = dataset_from(kw)
    listing = list_samples(dataset, subset=subset)
    method = {"id": name or Path(maps_dir).name, "maps": str(maps_dir)}
    method.update(
        {k: v for k, v in (("name", name), ("kind", kind), ("paper", paper), ("training_data", training_data)) if v}
    )
    if every:
        from .side_by_side import score_every_protocol

        score_every_protocol(
            maps_dir,
            dataset,
            listing,
            protocols,
            subset=subset,
            out=out,
            as_json=as_json,
            save_to=leaderboard_dir if save_to_leaderboard else None,
            map_suffix=map_suffix,
            map_polarity=map_polarity,
            allow_missing=allow_missing,
            skip_bad=skip_bad,
            workers=workers,
            method=method,
            ci=ci,
        )
        return
    with progress_bar("scoring", len(listing.samples)) as advance:
        result, per_image = score_maps(
            maps_dir,
            dataset,
            listing,
            protocol,
            map_suffix=map_suffix,
            map_polarity=map_polarity,
            allow_missing=allow_missing,
            skip_bad=skip_bad,
            workers=workers,
            method=method,
            progress=advance,
            ci=ci,
        )
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
def run(
    method_id,
    method_option,
    limit,
    device,
    out,
    workers,
    force,
    skip_bad,
    as_json,
    save_to_leaderboard,
    leaderboard_dir,
    **kw,
):
    """Run a method on a dataset: predict, cache maps as PNG, score from the cache."""
    from ..api import list_samples, result_name, run_method

    warn_plugin_failures()
    protocol = protocol_from(kw)
    ci = ci_settings(kw)
    subset = kw.pop("subset")
    options = parse_option_pairs(method_option)
    check_method(method_id, options, device)  # usage errors first: before any dataset is listed (and warns)
    dataset = dataset_from(kw, default_dataset="synth")  # the embedded default, as the README says
    listing = list_samples(dataset, subset=subset, limit=limit)
    n = len(listing.samples)
    stem = result_name(dataset, protocol, limit, subset)
    with progress_bar(f"{method_id} on {dataset.name}", n) as advance:
        result, run_dir = run_method(
            method_id,
            dataset,
            listing,
            protocol,
            out=out,
            options=options,
            device=device,
            force=force,
            skip_bad=skip_bad,
            workers=workers,
            result_stem=stem,
            progress=advance,
            ci=ci,
        )
    if not as_json:
        err_console().print(f"maps and results in {run_dir}")
    if save_to_leaderboard:
        save_result_copy(result, method_row(method_id, options), stem, leaderboard_dir)
    warn_result(result)
    present_result(result, as_json)


def check_method(method_id: str, options: dict, device: str) -> None:
    """Refuse an unknown method, option or device before any work; say where a handcrafted method runs."""
    from ..devices import check_device
    from ..options import resolve_options
    from ..plugins import get_registry

    cls = get_registry().method(method_id)
    resolve_options(cls, options)
    check_device(device)
    if cls.kind != "learned" and device not in ("auto", "cpu"):
        err_console().print(
            f"note: {method_id} is a handcrafted method and runs on the CPU; --device {device} is ignored"
        )


def warn_result(result) -> None:
    """The result's advisory warnings (a polarity that looks wrong, dbdbench.polarity), one line each on stderr."""
    for warning in result.warnings:
        err_console().print(f"warning: {warning['message']}")


def method_row(method_id: str, options: dict) -> str:
    """The leaderboard row of a method run with these options: its id plus the options that differ from the
    defaults, exactly as its map-cache folder is named (``lbp@refine=True``)."""
    from ..options import resolve_options
    from ..plugins import get_registry
    from ..runner import method_dir_name

    cls = get_registry().method(method_id)
    resolved = resolve_options(cls, options)
    return method_dir_name(method_id, {k: v for k, v in resolved.items() if v != cls.options.get(k)})
