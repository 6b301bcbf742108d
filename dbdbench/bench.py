"""Latency of one method on one image size: model only and end to end, after warm-up.

Timing tables come from here rather than from ``run``: a run's per-image times depend on its workers,
the other processes and file I/O, while ``bench`` times one process on an in-memory image of a fixed
size, repeatedly, after warm-up, and records the device, thread count and versions beside the numbers.

* end to end: ``Method.predict`` on an ``H x W x 3`` uint8 image (a synthetic scene, rendered once);
* model only: the zero-argument callable ``Method.model_forward(H, W)`` returns (the network alone on a
  prepared input, synchronised); methods without one (handcrafted) report end to end only.

No torch import here: a learned method imports it itself, and the record reports torch's version and
threads only when it was imported.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .devices import check_device, resolve_device
from .errors import DbdbenchError
from .methods import check_prediction
from .options import resolve_options
from .plugins import get_registry
from .results import SCHEMA_VERSION, command_line, environment
from .runner import method_dir_name


def bench_image(size: int) -> np.ndarray:
    """A realistic input: the first scene of the synthetic test split, rendered at ``size`` x ``size``."""
    from .datasets.synth.render import render_scene

    return render_scene(seed=0, index=0, size=size, kind="test").image


def time_calls(fn: Callable[[], Any], repeats: int, warmup: int) -> tuple[dict[str, Any], Any]:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed. Returns the summary and the last output."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000.0
    summary = {
        "median_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "mean_ms": float(ms.mean()),
        "min_ms": float(ms.min()),
        "max_ms": float(ms.max()),
        "repeats": int(ms.size),
    }
    return summary, out


def bench_method(
    method_id: str,
    *,
    options: dict[str, Any] | None = None,
    size: int = 320,
    device: str = "auto",
    repeats: int = 10,
    warmup: int = 2,
    image: np.ndarray | None = None,
) -> dict[str, Any]:
    """Time ``method_id`` and return the timing record (see docs/results.md, "Timing records")."""
    if size < 16:
        raise DbdbenchError(f"--size {size}: expected at least 16 pixels")
    if repeats < 1 or warmup < 0:
        raise DbdbenchError("--repeats must be at least 1 and --warmup at least 0")
    registry = get_registry()
    cls = registry.method(method_id)
    plugin = registry.method_plugin(method_id)
    resolved = resolve_options(cls, options or {})
    given = {k: v for k, v in resolved.items() if v != cls.options.get(k)}
    if cls.kind == "learned":
        device = resolve_device(device)
    else:
        check_device(device)
        device = "cpu"  # handcrafted methods run on the CPU whatever was asked; record what really ran
    if image is None:
        image = bench_image(size)
    height, width = image.shape[:2]
    try:
        method = cls(device=device, **given)
    except DbdbenchError:
        raise
    except Exception as exc:
        raise DbdbenchError(f"method {method_id!r} failed to initialise: {exc}") from None

    end_to_end, pred = time_calls(lambda: method.predict(image), repeats, warmup)
    check_prediction(method_id, "bench image", image, pred)  # a method that breaks the contract is not timed
    model = None
    forward = method.model_forward(height, width)
    if forward is not None:
        model, _ = time_calls(forward, repeats, warmup)

    provenance = method.provenance() or {}
    env = environment(device)
    torch = sys.modules.get("torch")
    info = cls.describe()
    info.update(options=resolved, plugin=plugin.name, plugin_version=plugin.version, provenance=provenance)
    return {
        "schema": SCHEMA_VERSION,
        "record": "timing",
        "row": method_dir_name(method_id, given),
        "method": info,
        "input": {"height": int(height), "width": int(width), "image": "synth test scene 0, uint8 RGB in memory"},
        "device": device,
        "threads": env.get("torch_threads") or env.get("threads"),
        "torch": getattr(torch, "__version__", None),
        "cpu": env.get("cpu"),
        "gpu": env.get("gpu"),
        "repeats": repeats,
        "warmup": warmup,
        "median_ms": end_to_end["median_ms"],
        "p90_ms": end_to_end["p90_ms"],
        "end_to_end": end_to_end,
        "model": model,
        "random_weights": provenance.get("weights") == "random",
        "environment": env,
        "command": command_line(),
    }
