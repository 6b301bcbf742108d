"""The ``register_trainers`` entry point every learned method shares: options, process group, loop, finish.

A method's trainer is then a table of option defaults (resolved by ``dbdbench.options.resolve_options``), a
check of their values, and its :class:`~dbdbench_torch.loop.Task` subclasses; :func:`train_task` does the rest
the same way for all of them.
"""

from __future__ import annotations

from typing import Any


def train_task(request, task_class, cfg: dict[str, Any]) -> dict[str, Any]:
    """Join the process group (torchrun) or not, build ``task_class(request, cfg, batch_size)`` (--batch-size, else
    the task's default), run the shared loop with the budget the options give, let rank 0 finish the run (plots,
    extra summary), and leave the group. ``training.json`` describes the task's method.
    """
    from .distributed import setup, teardown
    from .loop import Budget, fit

    ctx = setup(request.device)
    try:
        task = task_class(request, cfg, batch_size=request.batch_size or task_class.batch_size)
        budget = Budget(
            steps=request.steps,
            epochs=request.epochs,
            checkpoint_every=cfg["checkpoint_every"],
            keep_every=cfg.get("keep_every", Budget.keep_every),
            val_every=cfg["val_every"],
        )
        summary = fit(
            task,
            ctx,
            request.out,
            budget,
            seed=request.seed,
            resume=request.resume,
            on_progress=request.on_progress,
            describe=task_class.method_class.describe(),
        )
        if ctx.is_main:
            summary = task.finish(request.out, summary)
        return summary
    finally:
        teardown(ctx)
