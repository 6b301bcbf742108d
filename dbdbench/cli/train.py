"""``train``: parse, open the training dataset, dispatch to the method plugin's trainer (no torch here).

Works the same under ``torchrun --standalone --nproc_per_node N -m dbdbench train ...``: the plugin's
trainer reads torchrun's environment and runs DistributedDataParallel; only rank 0 draws progress.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click

from ..options import parse_option_pairs
from .app import cli
from .common import err_console, warn_plugin_failures


@contextmanager
def _train_progress(label: str, enabled: bool):
    """A rich bar with step, loss, images/s and ETA on a terminal; one line per ~10 s otherwise (logs, CI)."""
    if not enabled:
        yield None
        return
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  {task.fields[ips]} img/s"),
            TimeRemainingColumn(),
            console=err_console(),
            transient=False,
        ) as progress:
            task = progress.add_task(label, total=None, loss="-", ips="-")

            def update(step, total, stats):
                progress.update(
                    task,
                    completed=step,
                    total=total,
                    loss=f"{stats.get('loss', float('nan')):.4f}",
                    ips=f"{stats.get('images_per_s', float('nan')):.1f}",
                )

            yield update
        return
    last = [0.0]

    def log(step, total, stats):
        now = time.monotonic()
        if now - last[0] >= 10 or step == total:
            last[0] = now
            parts = " ".join(f"{k} {v:.4g}" for k, v in stats.items() if isinstance(v, (int, float)))
            err_console().print(f"{label}: step {step}/{total} {parts}")

    yield log


@cli.command()
@click.option("--method", "method_id", required=True, help="Learned method id (see 'dbdbench list methods').")
@click.option(
    "--dataset",
    "dataset_name",
    default="synth",
    show_default=True,
    help="Training data adapter (any with GT; selfgen reads no GT).",
)
@click.option("--root", type=click.Path(path_type=Path), help="Dataset root.")
@click.option("--split", help="Dataset split (default: the method's training split of the dataset, e.g. train).")
@click.option(
    "--dataset-option",
    "dataset_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Adapter option (e.g. n=2000 for synth).",
)
@click.option(
    "--option", "method_option", multiple=True, metavar="KEY=VALUE", help="Method/training option, e.g. variant=lite."
)
@click.option("--steps", type=int, help="Total optimiser steps to reach (a resumed run trains the rest).")
@click.option("--epochs", type=int, help="Or: passes over the training set.")
@click.option("--batch-size", type=int, help="Images per step per process (default: the method's).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Training folder: checkpoints, loss log, weights (default: runs/train/<method>).",
)
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in --out.")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of initialisation, data order and augmentation."
)
@click.option("--json", "as_json", is_flag=True, help="Print the training summary as JSON.")
def train(
    method_id,
    dataset_name,
    root,
    split,
    dataset_option,
    method_option,
    steps,
    epochs,
    batch_size,
    device,
    out,
    resume,
    seed,
    as_json,
):
    """Train a learned method (checkpoints, loss log, resume; DDP under torchrun)."""
    import json

    from ..api import open_dataset
    from ..training import TrainRequest, run_training

    warn_plugin_failures()
    dataset = open_dataset(
        dataset_name,
        root=root,
        split=split or _training_split(dataset_name),
        options=parse_option_pairs(dataset_option),
    )
    request = TrainRequest(
        method_id=method_id,
        dataset=dataset,
        out=Path(out) if out else Path("runs") / "train" / method_id,
        options=parse_option_pairs(method_option),
        steps=steps,
        epochs=epochs,
        batch_size=batch_size,
        device=device,
        resume=resume,
        seed=seed,
    )
    with _train_progress(f"train {method_id}", enabled=request.rank == 0) as on_progress:
        request.on_progress = on_progress
        summary = run_training(request)
    if request.rank == 0:
        if as_json:
            click.echo(json.dumps(summary, indent=2, default=str))
        else:
            err_console().print(f"training folder: {request.out}")
            for key, value in summary.items():
                click.echo(f"{key}: {value}")


def _training_split(dataset_name: str) -> str | None:
    """``train`` when the adapter has one, else its default split."""
    from ..plugins import get_registry

    cls = get_registry().dataset(dataset_name)
    return "train" if "train" in cls.splits else None
