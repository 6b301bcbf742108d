"""Issue 25: resuming a checkpoint that lacks one of the task's modules goes through ``Task.restore_missing``.

A task that grew a module after its checkpoint was written (selfgen's EMA generator is the real case) must
either rebuild it from the restored ones or be refused with one line naming the module. Before the shared
``Task`` base class, a task that did not define ``restore_missing`` crashed with an AttributeError here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from dbdbench_torch.distributed import Context
from dbdbench_torch.loop import Budget, Task, fit
from dbdbench_torch.weights import save_weights

from dbdbench.errors import DbdbenchError


class GrowingTask(Task):
    """A linear model on fixed data; ``with_shadow`` adds a second module (a copy of the first) to its state."""

    batch_size = 4

    def __init__(self, with_shadow: bool):
        self.with_shadow = with_shadow
        gen = torch.Generator().manual_seed(7)
        self.x = torch.randn(16, 3, generator=gen)
        self.y = torch.randn(16, 1, generator=gen)

    def setup(self, ctx: Context) -> None:
        self.net = torch.nn.Linear(3, 1)
        self.shadow = torch.nn.Linear(3, 1)
        torch.nn.init.zeros_(self.shadow.weight)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.1)

    def state_modules(self):
        return {"net": self.net, "shadow": self.shadow} if self.with_shadow else {"net": self.net}

    def state_optimizers(self):
        return {"sgd": self.opt}

    def dataset_size(self) -> int:
        return len(self.x)

    def load_batch(self, indices, epoch):
        return self.x[indices], self.y[indices]

    def train_step(self, batch, step):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": float(loss.detach())}

    def export(self, path: Path, info) -> str:
        return save_weights(self.net, path)

    def record(self):
        return {"task": "growing"}


class RebuildingTask(GrowingTask):
    """Restores the missing module from the restored one, as selfgen does for its EMA generator."""

    def restore_missing(self, name: str) -> None:
        assert name == "shadow"
        self.restored = name
        self.shadow.load_state_dict(self.net.state_dict())


def _fit(task: Task, out: Path, steps: int, resume: bool = False):
    return fit(task, Context(torch.device("cpu")), out, Budget(steps=steps, checkpoint_every=2), seed=0, resume=resume)


def test_a_task_without_restore_missing_refuses_in_one_line_naming_the_module(tmp_path):
    _fit(GrowingTask(with_shadow=False), tmp_path, 4)
    with pytest.raises(DbdbenchError, match=r"no state for 'shadow'.*another --out"):
        _fit(GrowingTask(with_shadow=True), tmp_path, 6, resume=True)


def test_a_task_that_restores_the_missing_module_resumes(tmp_path):
    _fit(GrowingTask(with_shadow=False), tmp_path, 4)
    task = RebuildingTask(with_shadow=True)
    summary = _fit(task, tmp_path, 6, resume=True)
    assert task.restored == "shadow"
    assert summary["steps"] == 6
    # the rebuilt module is checkpointed from then on, so a second resume finds it
    again = RebuildingTask(with_shadow=True)
    _fit(again, tmp_path, 8, resume=True)
    assert not hasattr(again, "restored")
