"""``leaderboard``: tables from result files, and the ``--save-to-leaderboard`` option of run/score/bench."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..wording import plural
from .app import cli
from .common import err_console

if TYPE_CHECKING:
    from ..results import RunResult


def save_options(fn):
    """``--save-to-leaderboard`` and ``--leaderboard-dir``, shared by run, score and bench."""
    options = [
        click.option(
            "--save-to-leaderboard",
            "save_to_leaderboard",
            is_flag=True,
            help="Also write a portable copy of the result under --leaderboard-dir (to commit).",
        ),
        click.option(
            "--leaderboard-dir",
            type=click.Path(path_type=Path),
            default=Path("leaderboards") / "results",
            show_default=True,
            help="Where --save-to-leaderboard writes.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def save_result_copy(result: RunResult, row: str, result_stem: str, base: Path) -> Path:
    from ..leaderboard.store import save_result_if_changed, variant_of

    path, kept = save_result_if_changed(result, row, variant_of(result_stem), base)
    if kept:
        err_console().print(
            f"leaderboard copy unchanged, kept as it is (only its provenance stamps would differ): {path}"
        )
    else:
        err_console().print(f"saved to the leaderboard: {path}")
    return path


@cli.command(short_help="Leaderboard tables (md, csv, latex, html) from result files.")
@click.argument("results_dirs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--dataset", "datasets", multiple=True, help="Only this dataset (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "latex", "html"]), default="md", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write the table here (atomically) instead of stdout.")
@click.option("--no-timing", is_flag=True, help="Leave out the timing tables.")
@click.option(
    "--ci",
    is_flag=True,
    help="Show each value with its interval (results scored with --ci) and mark rows not significantly "
    "different from each column's best.",
)
@click.option(
    "--check",
    "check_",
    is_flag=True,
    help="Re-render every generated table under --tables (or only --out) from its recorded command; "
    "exit non-zero when one differs or was made from a modified checkout.",
)
@click.option(
    "--tables",
    "tables_dir",
    type=click.Path(path_type=Path),
    default=Path("leaderboards"),
    show_default=True,
    help="With --check: the folder of generated tables.",
)
def leaderboard(results_dirs, datasets, fmt, out, no_timing, ci, check_, tables_dir):
    """Accuracy tables (one per dataset, split, protocol and file list) and timing tables (one per device).

    RESULTS_DIRS: folders (or files) holding results as 'run', 'score' and 'bench' wrote them: runs folders
    and leaderboards/results (the default: whichever of the two exists).
    """
    from ..errors import DbdbenchError
    from ..io import atomic_write_text
    from ..leaderboard import Spec, build, check

    if check_:
        outcomes = check([out] if out else None, tables_dir)
        for o in outcomes:
            if o.ok:
                err_console().print(f"ok: {o.path}")
                continue
            err_console().print(f"FAILED: {o.path}: {o.problem}")
            for line in o.diff[:40]:
                err_console().print("    " + line)
        failed = [o for o in outcomes if not o.ok]
        if failed:
            raise DbdbenchError(f"{len(failed)} of {len(outcomes)} generated tables do not match their result files")
        return
    dirs = list(results_dirs) or [p for p in (Path("runs"), Path("leaderboards") / "results") if p.exists()]
    if not dirs:
        raise DbdbenchError("no results folder given, and neither runs/ nor leaderboards/results/ exists here")
    spec = Spec([d.as_posix() for d in dirs], list(datasets), fmt, not no_timing, out.as_posix() if out else None, ci)
    text, board, warnings = build(spec)
    for warning in warnings:
        err_console().print(f"warning: {warning}")
    if out:
        atomic_write_text(out, text)
        err_console().print(
            f"wrote {out} ({plural(board.n_results, 'result')} in {plural(len(board.accuracy), 'accuracy table')}, "
            f"{plural(len(board.timing), 'timing table')})"
        )
    else:
        click.echo(text, nl=False)
