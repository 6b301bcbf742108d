"""``leaderboard``: tables from result files."""

from __future__ import annotations

from pathlib import Path

import click

from .app import cli
from .common import (
    err_console,
)


@cli.command()
@click.argument("runs_dir", type=click.Path(path_type=Path), default=Path("runs"))
@click.option("--dataset", "dataset_name", help="Only this dataset.")
@click.option("--result", "result_name", default=None, help="Only this result file of each run (e.g. result.te1.ddffnet); default: all.")
@click.option("--out", type=click.Path(path_type=Path), help="Write the markdown here (atomically) instead of stdout.")
def leaderboard(runs_dir, dataset_name, result_name, out):
    """Generate leaderboard markdown from RUNS_DIR/<method>/<dataset>/result*.json.

    One accuracy table per (dataset, split, protocol, file list), each with its own timing table.
    """
    from ..io import atomic_write_text
    from ..leaderboard import collect_results, render_markdown

    results, unreadable = collect_results(runs_dir, result_name=result_name, dataset=dataset_name)
    for path, problem in unreadable:
        err_console().print(f"warning: {path}: {problem}; left out of the leaderboard")
    text = render_markdown(results)
    if out:
        atomic_write_text(out, text)
        err_console().print(f"wrote {out} ({len(results)} results)")
    else:
        click.echo(text, nl=False)

