"""Validation with dbdbench's own metrics (protocol ``dbd``), for choosing checkpoints on a ``synth`` split.

Never point this at the real photos used for evaluation: checkpoints are chosen on synthetic data only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dbdbench.metrics import Evaluator, prepare
from dbdbench.protocols import get_protocol


def synth_validation_pairs(split: str, n: int, size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(uint8 RGB image, uint8 focus mask 0/1) pairs of a ``synth`` split, generated on first use."""
    from dbdbench.api import open_dataset

    from .data import load_focus_masks, load_images

    ds = open_dataset("synth", split=split, options={"n": n, "size": size})
    samples = ds.list().samples
    return list(zip(load_images([s.image for s in samples]), load_focus_masks([s.gt for s in samples], ds.gt_polarity)))


def score_predictions(
    pairs: list[tuple[np.ndarray, np.ndarray]], predict: Callable[[np.ndarray], np.ndarray]
) -> dict[str, float]:
    """``pairs`` of (uint8 RGB image, uint8 focus GT 0/1); returns f_max, mae, and ``score`` = f_max - mae."""
    protocol = get_protocol("dbd")
    evaluator = Evaluator(protocol)
    for i, (image, gt) in enumerate(pairs):
        pred = predict(image)
        quantised = np.rint(np.clip(pred, 0, 1) * 255).astype(np.uint8)  # exactly what the map cache stores
        evaluator.step(str(i), prepare(quantised, gt.astype(np.uint8) * 255, protocol))
    m = evaluator.results()["metrics"]
    return {"f_max": m["f_max"], "mae": m["mae"], "score": m["f_max"] - m["mae"]}
