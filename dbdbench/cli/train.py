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
from ..wording import plural
from .app import EXIT_INTERRUPTED, cli
from .common import ROOT_HELP, canonical_dataset, err_console, warn_plugin_failures


@contextmanager
def _train_progress(label: str, enabled: bool):
    """A rich bar with step, loss, images/s and ETA on a terminal; one line per ~10 s otherwise (logs, CI)."""
    if not enabled:
        yield None
        return
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        # Started at the first step, not before: the trainer may first generate its data (a synth split, with its
        # own bar), and two live bars on one terminal garble each other.
        bar: list = []

        def update(step, total, stats):
            if not bar:
                progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("loss {task.fields[loss]}  {task.fields[ips]} img/s"),
                    TimeRemainingColumn(),
                    console=err_console(),
                    transient=False,
                )
                progress.start()
                bar.extend([progress, progress.add_task(label, total=total, loss="-", ips="-")])
            progress, task = bar
            progress.update(
                task,
                completed=step,
                total=total,
                loss=f"{stats.get('loss', float('nan')):.4f}",
                ips=f"{stats.get('images_per_s', float('nan')):.1f}",
            )

        try:
            yield update
        finally:
            if bar:
                bar[0].stop()
        return
    last = [0.0]

    def log(step, total, stats):
        now = time.monotonic()
        if now - last[0] >= 10 or step == total:
            last[0] = now
            parts = " ".join(f"{k} {v:.4g}" for k, v in stats.items() if isinstance(v, (int, float)))
            err_console().print(f"{label}: step {step}/{total} {parts}")

    yield log


@cli.command(short_help="Train a learned method (checkpoints, resume, torchrun).")
@click.option("--method", "method_id", required=True, help="Learned method id (see 'dbdbench list methods').")
@click.option(
    "--dataset",
    "dataset_name",
    default="synth",
    show_default=True,
    help="Training data adapter (any with GT; selfgen reads no GT).",
)
@click.option("--root", type=click.Path(path_type=Path), help=ROOT_HELP)
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
    dataset_name = canonical_dataset(dataset_name)
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
    try:
        with _train_progress(f"train {method_id}", enabled=request.rank == 0) as on_progress:
            request.on_progress = on_progress
            summary = run_training(request)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (the trainer's loop turns it into this)
        if request.rank == 0:
            again = resume_command(request, dataset_name, root, split, dataset_option, method_option)
            err_console().print(interrupt_message(request.out, exc, again))
        sys.exit(EXIT_INTERRUPTED)
    if request.rank == 0:
        if as_json:
            click.echo(json.dumps(summary, indent=2, default=str))
        else:
            err_console().print(f"training folder: {request.out}")
            for key, value in summary.items():
                if value is not None and value != [] and value != {}:
                    click.echo(f"{key}: {readable(value, 'evaluation' if key == 'validation' else 'entry')}")


def resume_command(request, dataset_name, root, split, dataset_option, method_option) -> str:
    """The command that continues this run: the same arguments, the training folder spelled out, ``--resume``."""
    import os
    import shlex

    words = ["dbdbench", "train", "--method", request.method_id]
    if request.distributed:
        words[:1] = [
            "torchrun",
            "--standalone",
            "--nproc_per_node",
            os.environ.get("WORLD_SIZE", "2"),
            "-m",
            "dbdbench",
        ]
    if dataset_name != "synth":
        words += ["--dataset", dataset_name]
    if root is not None:
        words += ["--root", str(root)]
    if split:
        words += ["--split", split]
    for pair in dataset_option:
        words += ["--dataset-option", pair]
    for pair in method_option:
        words += ["--option", pair]
    for flag, value in (("--steps", request.steps), ("--epochs", request.epochs), ("--batch-size", request.batch_size)):
        if value is not None:
            words += [flag, str(value)]
    if request.device != "auto":
        words += ["--device", request.device]
    words += ["--out", str(request.out)]
    if request.seed != 0:
        words += ["--seed", str(request.seed)]
    return shlex.join([*words, "--resume"])


def interrupt_message(out: Path, exc: BaseException, again: str) -> str:
    """What an interrupted ``train`` kept and how to continue, in one line.

    The step comes from the trainer when it says (``checkpoint_step`` on the interrupt), else from the loss log,
    which the shared training loop flushes exactly up to each checkpoint it writes.
    """
    step = getattr(exc, "checkpoint_step", None)
    checkpoint = out / "checkpoints" / "last.pt"
    if step is None and checkpoint.is_file():
        step = _last_logged_step(out / "loss.csv")
    if step is None and not checkpoint.is_file():
        return f"interrupted before the first checkpoint; nothing to resume in {out}; start again with: {again[: -len(' --resume')]}"
    at = f"at step {step} " if step is not None else ""
    return f"interrupted; training checkpoint {at}kept in {checkpoint.parent}; continue with: {again}"


def _last_logged_step(path: Path) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        return int(lines[-1].split(",", 1)[0]) if len(lines) > 1 else None
    except (OSError, ValueError, IndexError):
        return None


def readable(value, noun: str = "entry") -> str:
    """A summary value as a person reads it: ``variant=lite, lr=0.001``, not a Python dict. ``noun`` counts a list
    of records (``3 evaluations, last: step=300, f_max=0.71``)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        if "id" in value and "name" in value:  # a method's description
            return f"{value['id']} ({value['name']})"
        parts = []
        for k, v in value.items():
            if v is not None:
                parts.append(f"{k}=({readable(v)})" if isinstance(v, dict) else f"{k}={readable(v)}")
        return ", ".join(parts)
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) for v in value):  # e.g. one validation row per evaluation
            return f"{plural(len(value), noun, 'entries' if noun == 'entry' else None)}, last: {readable(value[-1])}"
        return ", ".join(readable(v) for v in value)
    return str(value)


def _training_split(dataset_name: str) -> str | None:
    """``train`` when the adapter has one, else its default split."""
    from ..plugins import get_registry

    cls = get_registry().dataset(dataset_name)
    return "train" if "train" in cls.splits else None
