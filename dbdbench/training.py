"""The core side of ``dbdbench train``: one request type and the dispatch to a method's trainer. No torch.

A learned-method plugin registers ``train(request)`` through the ``register_trainers`` hook; the core only
opens the dataset adapter, checks the arguments, and hands over a :class:`TrainRequest`. Everything that
needs torch (models, the loop, DistributedDataParallel, checkpoints) lives in the plugins.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .datasets.base import Dataset
from .devices import check_device
from .errors import DbdbenchError
from .plugins import get_registry

#: ``on_progress(step, total_steps, stats)``: called by rank 0 after each optimiser step; ``stats`` holds at
#: least ``loss`` and ``images_per_s``. The CLI draws a rich progress bar from it.
ProgressCallback = Callable[[int, int, dict[str, float]], None]


@dataclass
class TrainRequest:
    """Everything ``dbdbench train`` was asked, already validated, in one object a trainer can rely on."""

    method_id: str
    dataset: Dataset
    out: Path
    #: Method/training options as given (``--option key=value``); the trainer resolves and validates them.
    options: dict[str, str] = field(default_factory=dict)
    #: Total optimiser steps to *reach* (a resumed run trains only the difference); None: use ``epochs``.
    steps: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    device: str = "auto"
    resume: bool = False
    seed: int = 0
    on_progress: ProgressCallback | None = None
    #: Free-form extras from third-party front ends; ignored by the built-in trainers.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def distributed(self) -> bool:
        """True when launched by torchrun (one process per device)."""
        return int(os.environ.get("WORLD_SIZE", "1")) > 1

    @property
    def rank(self) -> int:
        return int(os.environ.get("RANK", "0"))


def run_training(request: TrainRequest) -> dict[str, Any]:
    """Validate the request and call the method's registered trainer; return its summary."""
    if request.steps is not None and request.steps < 1:
        raise DbdbenchError(f"--steps {request.steps}: expected a positive number")
    if request.epochs is not None and request.epochs < 1:
        raise DbdbenchError(f"--epochs {request.epochs}: expected a positive number")
    if request.steps is not None and request.epochs is not None:
        raise DbdbenchError("give --steps or --epochs, not both")
    if request.batch_size is not None and request.batch_size < 1:
        raise DbdbenchError(f"--batch-size {request.batch_size}: expected a positive number")
    check_device(request.device)
    train = get_registry().trainer(request.method_id)
    summary = train(request)
    return dict(summary or {})
