"""The ``bench`` command: latency of one method, model only and end to end, after warm-up (:mod:`dbdbench.latency`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..options import parse_option_pairs
from .app import cli
from .common import err_console, out_console, warn_plugin_failures
from .leaderboard import save_options


@cli.command(short_help="Time a method: latency after warm-up, model and end to end.")
@click.option("--method", "method_id", required=True, help="Method id (see 'dbdbench list methods').")
@click.option(
    "--option",
    "method_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Method option (repeatable), e.g. variant=full.",
)
@click.option("--size", type=click.IntRange(16, 8192), default=320, show_default=True, help="Input is SIZE x SIZE x 3.")
@click.option(
    "--device", default="auto", show_default=True, help="auto, cpu or cuda (handcrafted methods always run on the CPU)."
)
@click.option("--repeats", type=click.IntRange(1, 100000), default=10, show_default=True, help="Timed calls.")
@click.option("--warmup", type=click.IntRange(0, 1000), default=2, show_default=True, help="Untimed calls first.")
@click.option("--json", "as_json", is_flag=True, help="Print the timing record as JSON.")
@save_options
def bench(method_id, method_option, size, device, repeats, warmup, as_json, save_to_leaderboard, leaderboard_dir):
    """Time a method: median and p90 latency after warm-up, model only and end to end.

    With --save-to-leaderboard the record goes to <leaderboard-dir>/timing/<device>/<method>.<size>px.json,
    which 'dbdbench leaderboard' renders as timing tables per device.
    """
    from ..latency import measure_latency

    warn_plugin_failures()
    record = measure_latency(
        method_id, options=parse_option_pairs(method_option), size=size, device=device, repeats=repeats, warmup=warmup
    )
    if record.random_weights:
        err_console().print(
            f"warning: {record.row} ran with random weights (no trained weights for this variant): timing only"
        )
    if save_to_leaderboard:
        from ..leaderboard.store import save_timing

        err_console().print(f"saved to the leaderboard: {save_timing(record, Path(leaderboard_dir))}")
    if as_json:
        click.echo(json.dumps(record.to_json(), indent=2, default=str))
        return
    from rich.table import Table

    title = (
        f"{record.row} on {record.device} ({record.cpu if record.device == 'cpu' else record.gpu}), "
        f"{size}x{size}, {record.threads} threads, {repeats} repeats after {warmup} warm-up"
    )
    table = Table(title=title)
    for col in ("what", "median ms", "p90 ms", "mean ms", "min ms"):
        table.add_column(col, justify="left" if col == "what" else "right")
    for label, summary in (("model only", record.model), ("end to end", record.end_to_end)):
        if summary is None:
            table.add_row(label, "-", "-", "-", "-")
        else:
            table.add_row(label, *(f"{summary[k]:.2f}" for k in ("median_ms", "p90_ms", "mean_ms", "min_ms")))
    out_console().print(table)
    if record.random_weights:
        # a line of its own, after the table: a title wraps at the table's width and could split the flag
        out_console().print("RANDOM WEIGHTS: these timings are of an untrained network", soft_wrap=True)
    if record.torch:
        err_console().print(f"torch {record.torch}")
