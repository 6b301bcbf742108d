"""Statistics on the command line: ``--ci`` of ``score``/``run``, and ``compare`` (a paired bootstrap of two results)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .app import cli
from .common import out_console, with_options

#: The fewest resamples the command line accepts (percentile intervals at 95% need the tails populated).
MIN_RESAMPLES = 1000


def _level(ctx, param, value):
    if value is not None and not 0 < value < 1:
        raise click.BadParameter(f"{value}: expected a level between 0 and 1, e.g. 0.95")
    return value


def ci_options(fn):
    """``--ci LEVEL``, ``--resamples N``, ``--seed S``: bootstrap intervals of every metric (``score``, ``run``)."""
    options = [
        click.option(
            "--ci",
            "ci_level",
            type=float,
            callback=_level,
            metavar="LEVEL",
            help="Add a percentile bootstrap interval over images to every metric, at this level (e.g. 0.95).",
        ),
        click.option(
            "--resamples",
            "ci_resamples",
            type=click.IntRange(min=MIN_RESAMPLES),
            default=1000,
            show_default=True,
            help="Bootstrap resamples (with --ci).",
        ),
        click.option("--seed", "ci_seed", type=int, default=0, show_default=True, help="Bootstrap seed (with --ci)."),
    ]
    return with_options(fn, options)


def ci_settings(kw):
    """The bootstrap settings of ``--ci`` (popped from the command's keyword arguments), or None without it."""
    from ..stats import BootstrapSettings

    level, resamples, seed = kw.pop("ci_level"), kw.pop("ci_resamples"), kw.pop("ci_seed")
    return None if level is None else BootstrapSettings(level, resamples, seed)


@cli.command()
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option(
    "--ci",
    "level",
    type=float,
    default=0.95,
    show_default=True,
    callback=_level,
    metavar="LEVEL",
    help="Level of the interval of each difference.",
)
@click.option("--resamples", type=click.IntRange(min=MIN_RESAMPLES), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--combine",
    multiple=True,
    metavar="EXPR",
    help="Also compare a sum of metrics, e.g. f_max-mae (a checkpoint-selection score); repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare(a, b, level, resamples, seed, combine, as_json):
    """Compare two results on the same images: per metric a, b, a - b, a paired bootstrap interval of a - b and
    its p-value.

    A and B: result files (result*.json, or committed copies under leaderboards/results) or run folders
    (runs/<method>/<dataset>) holding one result. Both must be scored on the same file list under the same
    protocol, and carry per-image data (results written by this version of dbdbench do).
    """
    from ..metric_table import METRICS
    from ..stats import BootstrapSettings
    from ..stats.paired import compare as compare_results
    from ..stats.paired import load

    settings = BootstrapSettings(level, resamples, seed)
    outcome = compare_results(load(a, "A"), load(b, "B"), settings, tuple(combine))
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2))
        return
    from rich.table import Table

    ds = outcome.a.result.dataset
    split = f" {ds.get('split')}" if ds.get("split") else ""
    title = (
        f"A {outcome.a.label} vs B {outcome.b.label}: {ds.get('name')}{split}, {outcome.n_images} images, "
        f"protocol {outcome.a.result.protocol.get('name')}"
    )
    table = Table(title=title)
    pct = f"{level * 100:g}%"
    for col in ("metric", "A", "B", "A - B", f"{pct} interval of A - B", "p"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for name, row in outcome.rows.items():
        arrow = f" {METRICS[name].arrow}" if name in METRICS else ""  # combinations (f_max-mae) have none
        lo, hi = row["interval"]
        table.add_row(
            name + arrow,
            f"{row['a']:.4f}",
            f"{row['b']:.4f}",
            f"{row['diff']:+.4f}",
            f"[{lo:+.4f}, {hi:+.4f}]",
            f"{row['p_value']:.3f}",
        )
    console = out_console()
    console.print(table)
    console.print(
        f"Paired percentile bootstrap over the {outcome.n_images} images ({resamples} resamples, seed {seed}): "
        "A and B see the same resampled images. p: two-sided bootstrap p-value of A - B = 0 (the smallest "
        f"possible is {2 / (resamples + 1):.3f}); an interval that excludes 0 is a difference at the {pct} level."
    )
