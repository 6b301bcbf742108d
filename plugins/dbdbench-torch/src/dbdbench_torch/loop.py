"""The training loop every learned method shares: budget, sampler, progress, loss log, checkpoints, resume.

A method supplies a :class:`Task` (its networks, optimisers, one training step, validation, export);
:func:`fit` does the rest the same way for every method:

* the step budget is a total to *reach*: ``--resume --steps 6`` after 4 steps trains 2 more;
* data order comes from torch's :class:`~torch.utils.data.DistributedSampler` (seed, epoch), sharded across
  torchrun processes; a task's augmentation must depend only on (seed, epoch, index), so the step counter
  alone restores the data stream and a resumed run matches an uninterrupted one;
* rank 0 writes ``loss.csv`` (one row per step), ``val.csv``, checkpoints (``checkpoints/last.pt`` every
  ``checkpoint_every`` steps or ``checkpoint_minutes``, kept copies every ``keep_every``), the final and the
  best-on-validation weights, and ``training.json`` (options, steps, wall time, machine, metrics);
* Ctrl-C or SIGTERM stops at the next step boundary with a checkpoint of exactly that step
  (:class:`StopRequest`), every torchrun process at the same step, so a resumed run equals a straight one.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from dbdbench.errors import DbdbenchError
from dbdbench.io import atomic_write_json, atomic_write_text

from . import checkpoint as ckpt
from .distributed import Context, all_mean, any_true, barrier


class Task:
    """What a method's trainer hands to :func:`fit`: its networks, optimisers, one step, validation, export.

    Subclasses implement ``setup``, ``state_modules``, ``state_optimizers``, ``dataset_size``, ``load_batch``,
    ``train_step`` and ``inference_network``; the rest has a shared default that both learned plugins use:
    options recorded and checked on resume, validation on a ``synth`` split with the method's own ``predict``,
    export as safetensors, and the end-of-run plot. A method's task names its method and option defaults in
    its class line: ``class MyTask(Task, method_class=MyMethod, options=TRAIN_OPTIONS)``.
    """

    #: Images per step per process (the class value is the default when --batch-size is not given).
    batch_size: int = 8
    #: Used when neither --steps nor --epochs is given.
    default_steps: int = 1000
    #: The trainer's option defaults. A checkpoint written before an option existed resumes with its default.
    options: ClassVar[dict[str, Any]] = {}
    #: The method whose ``predict`` scores validation (built with random weights, the task's network swapped in).
    method_class: ClassVar[Any] = None

    def __init_subclass__(cls, method_class: Any = None, options: dict[str, Any] | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if method_class is not None:
            cls.method_class = method_class
        if options is not None:
            cls.options = options

    #: Panels of ``training.png`` drawn from ``loss.csv`` at the end of a run (``dbdbench_torch.plots``); none: no plot.
    plot_panels: ClassVar[tuple[Any, ...]] = ()
    #: (uint8 image, uint8 focus mask) pairs that ``validate`` scores; see :meth:`validation_pairs`.
    val_pairs: list[tuple[Any, Any]] = []

    def __init__(self, request, cfg: dict[str, Any], batch_size: int):
        self.request, self.cfg, self.batch_size, self.seed = request, cfg, batch_size, request.seed

    # ---------------------------------------------------------------- every task implements these

    def setup(self, ctx: Context) -> None:
        """Build networks (seeded), wrap them for DDP, build optimisers and schedulers; keep ``ctx``."""
        raise NotImplementedError

    def state_modules(self) -> dict[str, torch.nn.Module]:
        """Unwrapped modules whose states go into checkpoints."""
        raise NotImplementedError

    def state_optimizers(self) -> dict[str, Any]:
        """Optimisers *and* schedulers (anything with state_dict/load_state_dict)."""
        raise NotImplementedError

    def dataset_size(self) -> int:
        raise NotImplementedError

    def load_batch(self, indices: list[int], epoch: int) -> Any:
        """The batch of these sample indices; randomness only from (seed, epoch, index)."""
        raise NotImplementedError

    def train_step(self, batch: Any, step: int) -> dict[str, float]:
        """One optimiser step; returns scalars to log, at least ``loss``."""
        raise NotImplementedError

    def inference_network(self) -> torch.nn.Module:
        """The network that is validated and exported (what ``dbdbench run`` loads)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- shared defaults

    def restore_missing(self, name: str) -> None:
        """A checkpoint from before module ``name`` existed is being resumed: set it from the restored ones, or refuse."""
        raise DbdbenchError(f"--resume: the checkpoint has no state for {name!r}; use another --out")

    def validation_pairs(self) -> list[tuple[Any, Any]]:
        """The ``synth`` split of option ``val_split`` (``val_n`` images of ``val_size`` px), on rank 0 only;
        none when the option is empty. Validation images are synthetic: never the real photos dbdbench scores."""
        split = self.cfg.get("val_split", "")
        if not split or self.request.rank != 0:
            return []
        from .validation import synth_validation_pairs

        return synth_validation_pairs(split, self.cfg["val_n"], self.cfg["val_size"])

    def validate(self) -> dict[str, float] | None:
        """Metrics on the validation pairs (rank 0), or None. ``score`` (higher is better) picks the best weights."""
        if not self.val_pairs or self.method_class is None:
            return None
        from .validation import score_predictions

        net = self.inference_network()
        method = self.method_class(device=str(self.ctx.device), weights="random", variant=self.cfg["variant"])
        method._model = net
        net.eval()
        try:
            return score_predictions(self.val_pairs, method.predict)
        finally:
            method._model = None

    def export_metadata(self, info: dict[str, Any]) -> dict[str, Any]:
        """What the exported weights file says about itself (provenance; not part of its content hash)."""
        meta: dict[str, Any] = {
            "method": self.method_class.id,
            "variant": self.cfg["variant"],
            "options": self.record(),
        }
        step = info.get("step", info.get("steps"))
        if step is not None:
            meta["step"] = step
        return meta

    def export(self, path: Path, info: dict[str, Any]) -> str:
        """Write the inference weights (safetensors) to ``path``; return their content hash."""
        from .weights import save_weights

        return save_weights(self.inference_network(), path, metadata=self.export_metadata(info))

    def record(self) -> dict[str, Any]:
        """The resolved options that define this run (checked on --resume)."""
        return dict(self.cfg, batch_size=self.batch_size)

    def matches(self, saved: dict[str, Any] | None) -> bool:
        """May a checkpoint with this saved record be resumed? Options added since count as their defaults."""
        return saved is not None and {**self.options, **saved} == self.record()

    def extra_summary(self) -> dict[str, Any]:
        """Anything the task adds to ``training.json`` at the end (e.g. events it noticed)."""
        return {}

    def finish(self, out: Path, summary: dict[str, Any]) -> dict[str, Any]:
        """Rank 0, after the loop: the training-curve plot and the extra summary, written into training.json."""
        extra = self.extra_summary()
        if not self.plot_panels and not extra:
            return summary
        if self.plot_panels:
            from .plots import plot_training

            try:
                summary["plot"] = str(plot_training(Path(out), self.plot_panels))
            except Exception as exc:
                print(f"{self.method_class.id}: could not plot the training curves ({exc})", file=sys.stderr)
        summary.update(extra)
        atomic_write_json(Path(out) / "training.json", summary)
        return summary


@dataclass
class Budget:
    steps: int | None = None
    epochs: int | None = None
    checkpoint_every: int = 200
    checkpoint_minutes: float = 5.0
    keep_every: int = 1000
    val_every: int = 0  # 0: only at the end


@dataclass
class _State:
    step: int = 0
    elapsed_s: float = 0.0
    best_score: float = float("-inf")
    best_step: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def fit(
    task: Task,
    ctx: Context,
    out: Path,
    budget: Budget,
    *,
    seed: int,
    resume: bool,
    on_progress=None,
    describe: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``task`` to the budget; return the summary also written to ``training.json``."""
    from torch.utils.data import DistributedSampler

    out = Path(out)
    folder = out / "checkpoints"
    torch.manual_seed(seed)
    task.setup(ctx)
    state = _State()
    if resume:
        saved = ckpt.load_checkpoint(folder)
        if not task.matches(saved.get("record")):
            raise DbdbenchError(
                f"--resume: {folder / ckpt.LAST} was made with other options ({_diff(saved.get('record'), task.record())}); "
                "use the same --option values or another --out"
            )
        for name, module in task.state_modules().items():
            if name in saved["modules"]:
                module.load_state_dict(saved["modules"][name])
            else:
                task.restore_missing(name)
        for name, opt in task.state_optimizers().items():
            opt.load_state_dict(saved["optimizers"][name])
        ckpt.set_rng_state(saved["rng"])
        state = _State(
            step=int(saved["step"]),
            elapsed_s=float(saved["elapsed_s"]),
            best_score=float(saved.get("best_score", float("-inf"))),
            best_step=saved.get("best_step"),
            history=json.loads(saved.get("history", "[]")),
        )
    elif (folder / ckpt.LAST).exists():
        raise DbdbenchError(
            f"{out}: already holds a training run; add --resume to continue it, or choose another --out"
        )

    n = task.dataset_size()
    sampler = DistributedSampler(
        range(n), num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=seed, drop_last=True
    )
    per_epoch = len(sampler) // task.batch_size
    if per_epoch < 1:
        raise DbdbenchError(
            f"training set has {n} images: too few for batch size {task.batch_size} x {ctx.world_size} processes"
        )
    total = (
        budget.steps
        if budget.steps is not None
        else (budget.epochs * per_epoch if budget.epochs else task.default_steps)
    )
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        _trim_log(out / "loss.csv", state.step)

    log_rows: list[dict[str, Any]] = []
    order: list[int] = []
    epoch_loaded = -1
    last_ckpt = time.monotonic()
    t_start = time.monotonic()
    elapsed0 = state.elapsed_s
    images_since, t_since = 0, time.monotonic()

    def save(keep: bool) -> None:
        nonlocal last_ckpt
        state.elapsed_s = elapsed0 + (time.monotonic() - t_start)
        if ctx.is_main:
            _flush_log(out / "loss.csv", log_rows)
            ckpt.save_checkpoint(
                folder,
                {
                    "step": state.step,
                    "elapsed_s": state.elapsed_s,
                    "record": task.record(),
                    "modules": {k: m.state_dict() for k, m in task.state_modules().items()},
                    "optimizers": {k: o.state_dict() for k, o in task.state_optimizers().items()},
                    "rng": ckpt.rng_state(),
                    "best_score": state.best_score,
                    "best_step": state.best_step,
                    "history": json.dumps(state.history),
                },
                keep_as=f"step_{state.step:07d}.pt" if keep else None,
            )
        barrier(ctx)
        last_ckpt = time.monotonic()

    stop = StopRequest()
    restore = stop.install()
    try:
        while state.step < total:
            if any_true(stop.requested, ctx):
                _interrupted(save, state)
            epoch, offset = divmod(state.step, per_epoch)
            if epoch != epoch_loaded:
                sampler.set_epoch(epoch)
                order, epoch_loaded = list(sampler), epoch
            indices = order[offset * task.batch_size : (offset + 1) * task.batch_size]
            batch = task.load_batch(indices, epoch)
            stats = task.train_step(batch, state.step)
            state.step += 1
            images_since += len(indices) * ctx.world_size
            now = time.monotonic()
            stats = {k: all_mean(float(v), ctx) for k, v in stats.items()}
            stats["images_per_s"] = images_since / max(now - t_since, 1e-9)
            if now - t_since > 5:
                images_since, t_since = 0, now
            if ctx.is_main:
                log_rows.append(
                    {"step": state.step, "epoch": epoch, "wall_s": round(elapsed0 + now - t_start, 2), **stats}
                )
                if on_progress:
                    on_progress(state.step, total, stats)
            if budget.val_every and state.step % budget.val_every == 0 and state.step < total:
                _validate(task, ctx, out, state)
            # every process must agree (save() ends in a barrier); their clocks need not
            overdue = any_true((now - last_ckpt) > budget.checkpoint_minutes * 60, ctx)
            if (state.step % budget.checkpoint_every == 0 or overdue) and state.step < total:
                save(keep=state.step % budget.keep_every == 0)
    finally:
        restore()
    _validate(task, ctx, out, state)
    save(keep=True)
    summary = {
        "method": describe or {},
        "options": task.record(),
        "steps": state.step,
        "batch_size": task.batch_size,
        "processes": ctx.world_size,
        "device": str(ctx.device),
        "seed": seed,
        "wall_time_s": round(state.elapsed_s, 1),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
        "best_step": state.best_step,
        "validation": state.history,
        "weights": str(out / "weights.safetensors"),
        "best_weights": str(out / "best.safetensors") if state.best_step else None,
    }
    if ctx.is_main:
        summary["weights_sha256"] = task.export(out / "weights.safetensors", summary)
        atomic_write_json(out / "training.json", summary)
    barrier(ctx)
    return summary


class StopRequest:
    """Ctrl-C (SIGINT) and SIGTERM (``kill``, a scheduler's time limit, torchrun passing on a Ctrl-C) ask the loop
    to stop; it stops at the next step boundary, so the checkpoint it writes is exactly the state after the last
    completed step.

    Why not stop at once: a signal that lands inside a step has already moved part of the state (batch-norm
    statistics, some optimisers), and saving that under the previous step number made a resumed run differ
    from a straight one. A second signal stops at once, without writing: the last periodic checkpoint stays
    valid and the run resumes from there.
    """

    def __init__(self) -> None:
        self.requested = False

    def install(self):
        """Install the handlers (main thread only); return a function that puts the previous ones back."""
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True

        # A job started in the background by a non-interactive shell has SIGINT ignored: leave it so.
        signals = [signal.SIGTERM] + ([] if signal.getsignal(signal.SIGINT) is signal.SIG_IGN else [signal.SIGINT])
        previous = {sig: signal.signal(sig, handler) for sig in signals}

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore


def _interrupted(save, state: _State):
    """Checkpoint at this step boundary, then raise KeyboardInterrupt carrying the step (the CLI prints it)."""
    save(keep=False)
    exc = KeyboardInterrupt()
    exc.checkpoint_step = state.step  # type: ignore[attr-defined]
    raise exc


def _validate(task: Task, ctx: Context, out: Path, state: _State) -> None:
    if not ctx.is_main:
        barrier(ctx)
        return
    metrics = task.validate()
    if metrics is not None:
        row = {"step": state.step, **metrics}
        state.history.append(row)
        _append_csv(out / "val.csv", row)
        if metrics.get("score", float("-inf")) > state.best_score:
            state.best_score, state.best_step = metrics["score"], state.step
            task.export(out / "best.safetensors", {"step": state.step, "validation": row})
    barrier(ctx)


def _diff(a: dict | None, b: dict) -> str:
    a = a or {}
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys[:4])


def _flush_log(path: Path, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        _append_csv(path, row)
    rows.clear()


def _append_csv(path: Path, row: dict[str, Any]) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow({k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()})


def _trim_log(path: Path, step: int) -> None:
    """On resume, drop rows logged after the checkpoint (they will be trained again)."""
    if not path.exists():
        return
    lines = path.read_text().splitlines()
    if not lines:
        return
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    keep = [lines[0]] + [line for line, row in zip(lines[1:], reader) if int(row["step"]) <= step]
    atomic_write_text(path, "\n".join(keep) + "\n")
