"""The ``register_trainers`` entry point every learned method shares: options, process group, loop, finish.

A method's trainer is then a table of option defaults, a check of their values, and its
:class:`~dbdbench_torch.loop.Task` subclasses; :func:`train_task` does the rest the same way for all of them.
"""

from __future__ import annotations

from typing import Any

from dbdbench.errors import DbdbenchError
from dbdbench.options import coerce_option


def resolve_options(method_id: str, options: dict[str, str], defaults: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` overridden by the given ``--option`` strings, each coerced to its default's type.

    An unknown key is refused with the list of known ones; values are checked by the method afterwards.
    """
    cfg = dict(defaults)
    for key, value in options.items():
        if key not in defaults:
            raise DbdbenchError(f"{method_id} training has no option {key!r} (options: {', '.join(sorted(defaults))})")
        cfg[key] = coerce_option(method_id, key, value, defaults[key])
    return cfg


def train_task(request, task_class, cfg: dict[str, Any], batch_size: int, describe: dict[str, Any]) -> dict[str, Any]:
    """Join the process group (torchrun) or not, build ``task_class(request, cfg, batch_size)``, run the shared
    loop with the budget the options give, let rank 0 finish the run (plots, extra summary), and leave the group.
    """
    from .distributed import setup, teardown
    from .loop import Budget, fit

    ctx = setup(request.device)
    try:
        task = task_class(request, cfg, batch_size=batch_size)
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
            describe=describe,
        )
        if ctx.is_main:
            summary = task.finish(request.out, summary)
        return summary
    finally:
        teardown(ctx)
