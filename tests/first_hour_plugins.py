"""A fake learned method and its trainer for ``tests/test_first_hour.py`` (loaded with DBDBENCH_EXTRA_PLUGINS).

The trainer does no training: ``--option mode=...`` makes it stop the way the shared loop stops on Ctrl-C or
SIGTERM (a KeyboardInterrupt after a checkpoint, with or without ``checkpoint_step``, or before any checkpoint),
or return a summary shaped like the loop's (nested records), so the command's own wording can be checked
without torch.
"""

from __future__ import annotations

import numpy as np

from dbdbench import hookimpl
from dbdbench.methods import Method


class FakeLearned(Method):
    id = "fake-learned"
    name = "Fake learned method (first-hour tests)"
    kind = "learned"
    options = {"mode": "done"}

    def predict(self, image):
        return np.full(image.shape[:2], 0.5, np.float32)


def train(request):
    mode = request.options.get("mode", "done")
    out = request.out
    if mode in ("checkpoint", "attribute"):
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        (out / "checkpoints" / "last.pt").write_bytes(b"not a real checkpoint")
        (out / "loss.csv").write_text("step,loss\n1,0.9\n2,0.8\n3,0.7\n", encoding="utf-8")
        interrupt = KeyboardInterrupt()
        if mode == "attribute":
            interrupt.checkpoint_step = 2  # type: ignore[attr-defined]
        raise interrupt
    if mode == "early":
        raise KeyboardInterrupt
    return {
        "method": {"id": "fake-learned", "name": FakeLearned.name, "kind": "learned"},
        "options": {"variant": "lite", "lr": 0.001, "dataset": {"name": "folder", "split": "all"}},
        "steps": 3,
        "wall_time_s": 1.25,
        "best_step": None,
        "validation": [{"step": 2, "f_max": 0.5}, {"step": 3, "f_max": 0.625}],
        "weights": str(out / "weights.safetensors"),
    }


@hookimpl
def register_methods(register):
    register(FakeLearned)


@hookimpl
def register_trainers(register):
    register("fake-learned", train)
