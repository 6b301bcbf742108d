"""Resuming a training run: exactly, and with a module the checkpoint lacks.

Issue 27: a run interrupted (Ctrl-C or SIGTERM, even inside a step) and resumed equals a straight run. The
signal is sent from inside ``train_step``, after the forward pass has moved the batch-norm statistics and
before the optimiser step: exactly where the old loop saved a half-done step under the previous step number.

Issue 25: a checkpoint that lacks one of the task's modules (a task that grew one, as selfgen's EMA generator)
goes through ``Task.restore_missing``: rebuilt from the restored modules, or refused in one line. Before the
shared base class a task without ``restore_missing`` (rtdbd's) crashed there with an AttributeError.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch
from dbdbench_torch.distributed import Context
from dbdbench_torch.loop import Budget, Task, fit
from dbdbench_torch.weights import save_weights

from dbdbench.errors import DbdbenchError


@pytest.fixture(autouse=True)
def interactive_sigint():
    """Ctrl-C as in a terminal: a test run started in the background by a non-interactive shell inherits SIGINT
    ignored, and the loop (rightly) leaves an ignored SIGINT alone, so the tests that send one set it first."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class TinyTask(Task):
    """A BN + dropout network on fixed random data; ``signals`` maps a step index to the signals sent in it."""

    batch_size = 4
    default_steps = 10

    def __init__(self, signals: dict[int, list[int]] | None = None):
        self.signals = signals or {}
        gen = torch.Generator().manual_seed(123)
        self.x = torch.randn(32, 3, 8, 8, generator=gen)
        self.y = torch.randn(32, 1, generator=gen)

    def setup(self, ctx: Context) -> None:
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3, padding=1),
            torch.nn.BatchNorm2d(4),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.3),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(4, 1),
        )
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-2)

    def state_modules(self):
        return {"net": self.net}

    def state_optimizers(self):
        return {"adam": self.opt}

    def dataset_size(self) -> int:
        return len(self.x)

    def load_batch(self, indices, epoch):
        return self.x[indices], self.y[indices]

    def train_step(self, batch, step):
        x, y = batch
        self.net.train()
        loss = torch.nn.functional.mse_loss(self.net(x), y)  # BN running statistics already moved here
        for sig in self.signals.get(step, []):
            os.kill(os.getpid(), sig)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": float(loss.detach())}

    def export(self, path: Path, info) -> str:
        return save_weights(self.net, path)

    def record(self):
        return {"task": "tiny"}


def _fit(out: Path, steps: int, resume: bool = False, signals=None):
    budget = Budget(steps=steps, checkpoint_every=2)
    return fit(TinyTask(signals), Context(torch.device("cpu")), out, budget, seed=0, resume=resume)


def _state(out: Path):
    from safetensors.torch import load_file

    return load_file(str(out / "weights.safetensors"))


def test_interrupted_twice_inside_steps_then_resumed_equals_a_straight_run(tmp_path):
    straight = tmp_path / "straight"
    _fit(straight, 10)

    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt) as first:
        _fit(run, 10, signals={3: [signal.SIGINT]})  # lands inside step index 3: stops after it
    assert first.value.checkpoint_step == 4
    with pytest.raises(KeyboardInterrupt) as second:
        _fit(run, 10, resume=True, signals={6: [signal.SIGTERM]})
    assert second.value.checkpoint_step == 7
    summary = _fit(run, 10, resume=True)
    assert summary["steps"] == 10

    a, b = _state(straight), _state(run)
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} of {len(a)} tensors differ: {different[:4]}"
    rows = (run / "loss.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == list(range(1, 11))


def test_a_second_signal_stops_at_once_and_the_last_periodic_checkpoint_resumes_exactly(tmp_path):
    straight = tmp_path / "straight"
    _fit(straight, 8)
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt) as stopped:
        _fit(run, 8, signals={4: [signal.SIGINT, signal.SIGINT]})  # stops inside step index 4, writes nothing
    assert getattr(stopped.value, "checkpoint_step", None) is None
    _fit(run, 8, resume=True)  # from the periodic checkpoint of step 4
    a, b = _state(straight), _state(run)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_handlers_are_restored_after_training(tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    _fit(tmp_path / "run", 2)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


class GrowingTask(TinyTask):
    """TinyTask whose state gains a second module, ``shadow``, when ``with_shadow`` (a checkpoint without it exists)."""

    def __init__(self, with_shadow: bool):
        super().__init__()
        self.with_shadow = with_shadow

    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        self.shadow = torch.nn.Linear(4, 1)

    def state_modules(self):
        return {**super().state_modules(), **({"shadow": self.shadow} if self.with_shadow else {})}


class RebuildingTask(GrowingTask):
    """Sets the missing module from the restored one, as selfgen does for its EMA generator."""

    def restore_missing(self, name: str) -> None:
        self.restored = name
        self.shadow.load_state_dict(self.net[-1].state_dict())


def _fit_task(task, out: Path, steps: int, resume: bool = False):
    return fit(task, Context(torch.device("cpu")), out, Budget(steps=steps, checkpoint_every=2), seed=0, resume=resume)


def test_a_task_without_restore_missing_refuses_in_one_line_naming_the_module(tmp_path):
    _fit_task(GrowingTask(with_shadow=False), tmp_path, 4)
    with pytest.raises(DbdbenchError, match=r"no state for 'shadow'.*another --out"):
        _fit_task(GrowingTask(with_shadow=True), tmp_path, 6, resume=True)


def test_a_task_that_restores_the_missing_module_resumes_and_checkpoints_it(tmp_path):
    _fit_task(GrowingTask(with_shadow=False), tmp_path, 4)
    task = RebuildingTask(with_shadow=True)
    assert _fit_task(task, tmp_path, 6, resume=True)["steps"] == 6
    assert task.restored == "shadow"
    again = RebuildingTask(with_shadow=True)  # the rebuilt module is in the checkpoint from then on
    _fit_task(again, tmp_path, 8, resume=True)
    assert not hasattr(again, "restored")
