"""``plot``: PR and F-measure curves (PNG + SVG) and a qualitative grid from run folders."""

from __future__ import annotations

from pathlib import Path

import click

from ..metric_table import RANKING_METRIC
from .app import cli
from .common import err_console, selection, selection_options, split_names


@cli.command(short_help="PR and F-measure curves and a qualitative grid from runs.")
@click.argument("runs_dir", type=click.Path(path_type=Path))
@selection_options
@click.option(
    "--images",
    "stems",
    multiple=True,
    metavar="STEMS",
    help="Images of the qualitative grid (comma-separated or repeated); default: each method's best, median and worst.",
)
@click.option(
    "--rank-by", default=RANKING_METRIC, show_default=True, help="Per-image column that picks best/median/worst images."
)
@click.option("--no-grid", is_flag=True, help="Curves only, no qualitative grid.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the figures.")
def plot(runs_dir, dataset_name, methods, stems, rank_by, no_grid, out):
    """Figures from RUNS_DIR/<method>/<dataset>/result*.json: precision-recall and F-measure-by-threshold
    curves (PNG and SVG) and a photo | GT | maps grid, one colour per method in every figure.

    One set of figures per dataset, split, protocol and file list; files are named after the group
    (e.g. synth-test-dbd_pr.svg).
    """
    from ..plots import plot_runs

    written, warnings = plot_runs(
        runs_dir,
        out,
        **selection(dataset_name, methods),
        stems=split_names(stems) or None,
        rank_by=rank_by,
        qualitative=not no_grid,
    )
    for line in warnings:
        err_console().print(f"warning: {line}")
    for path in written:
        click.echo(str(path))
