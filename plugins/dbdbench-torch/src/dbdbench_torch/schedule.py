"""Learning-rate schedules shared by the learned methods' trainers.

Each schedule is a pure function of the step, so a resumed run sets exactly the rate an uninterrupted one
would have: nothing about the schedule needs to be checkpointed.
"""

from __future__ import annotations

import math


def warmup_cosine(step: int, lr: float, final_lr: float, warmup: int, total: int) -> float:
    """Linear warm-up to ``lr`` over ``warmup`` steps, then a cosine from ``lr`` to ``final_lr`` reached at step
    ``total``, and ``final_lr`` after that."""
    if step < warmup:
        return lr * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return final_lr + (lr - final_lr) * 0.5 * (1 + math.cos(math.pi * t))
