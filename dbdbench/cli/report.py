"""``report``: a static, offline HTML site (leaderboard, curves, per-image browser) from run folders."""

from __future__ import annotations

from pathlib import Path

import click

from ..wording import plural
from .app import cli
from .common import err_console, selection, selection_options


@cli.command(short_help="An offline HTML report: leaderboard, curves, every image.")
@click.argument("runs_dir", type=click.Path(path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Folder for the site (index.html and its files)."
)
@selection_options
@click.option(
    "--max-side",
    type=click.IntRange(min=0),
    default=384,
    show_default=True,
    help="Shrink images so their longer side is at most this many pixels (0: full size).",
)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Threads encoding images.")
@click.option("--title", help="Page title (default: from RUNS_DIR).")
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
def report(runs_dir, out, dataset_name, methods, max_side, workers, title, as_json):
    """Write a self-contained site from RUNS_DIR/<method>/<dataset>/result*.json: the leaderboard, the
    PR and F curves, and a per-image browser (photo, GT and every method's map; per-image metrics
    sortable by any column; filter by method; step through images). Open OUT/index.html in a browser;
    nothing is loaded from the network.
    """
    import json

    from ..report import build_report

    summary, warnings = build_report(
        runs_dir,
        out,
        **selection(dataset_name, methods),
        max_side=max_side or None,
        workers=workers,
        title=title,
    )
    for line in warnings:
        err_console().print(f"warning: {line}")
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    for g in summary["groups"]:
        err_console().print(
            f"{g['title']}: {plural(g['methods'], 'method')}, {plural(g['images'], 'image')} in the browser"
        )
    click.echo(summary["index"])
