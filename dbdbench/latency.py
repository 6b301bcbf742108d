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

from .errors import DbdbenchError
from .methods import check_prediction
from .prepare import DEFAULT_DEVICE, prepare_method
from .results import Environment, TimingRecord, command_line


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


def measure_latency(
    method_id: str,
    *,
    options: dict[str, Any] | None = None,
    size: int = 320,
    device: str = DEFAULT_DEVICE,
    repeats: int = 10,
    warmup: int = 2,
    image: np.ndarray | None = None,
) -> TimingRecord:
    """Time ``method_id`` on a ``size`` x ``size`` image (or ``image``) and return the timing record."""
    if size < 16:
        raise DbdbenchError(f"--size {size}: expected at least 16 pixels")
    if repeats < 1 or warmup < 0:
        raise DbdbenchError("--repeats must be at least 1 and --warmup at least 0")
    prepared = prepare_method(method_id, options, device)
    if image is None:
        image = bench_image(size)
    height, width = image.shape[:2]
    method = prepared.build()

    end_to_end, pred = time_calls(lambda: method.predict(image), repeats, warmup)
    check_prediction(method_id, "bench image", image, pred)  # a method that breaks the contract is not timed
    model = None
    forward = method.model_forward(height, width)
    if forward is not None:
        model, _ = time_calls(forward, repeats, warmup)

    provenance = method.provenance() or {}
    env = Environment.current(prepared.device)
    torch = sys.modules.get("torch")
    return TimingRecord(
        row=prepared.row,
        method=prepared.record(provenance=provenance),
        input={"height": int(height), "width": int(width), "image": "synth test scene 0, uint8 RGB in memory"},
        device=prepared.device,
        threads=env.torch_threads or env.threads,
        torch=getattr(torch, "__version__", None),
        cpu=env.cpu,
        gpu=env.gpu,
        repeats=repeats,
        warmup=warmup,
        median_ms=end_to_end["median_ms"],
        p90_ms=end_to_end["p90_ms"],
        end_to_end=end_to_end,
        model=model,
        random_weights=provenance.get("weights") == "random",
        environment=env,
        command=command_line(),
    )
