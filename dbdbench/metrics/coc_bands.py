"""Blur-stratified scoring: how each method behaves as a function of the true circle of confusion.

Real datasets carry only binary masks; the synthetic dataset also knows each
pixel's CoC diameter. Pooling pixels over all images by CoC band answers "how
blurry must a region be before the method notices": the fraction of pixels
predicted in focus should be near 1 in the sharp band and fall to 0 as the CoC
grows.
"""

from __future__ import annotations

import itertools
from typing import TypedDict

import numpy as np

from ..protocols import Protocol
from .pair import PreparedPair

#: Band edges in pixels; bands are [0, 1.5], (1.5, 3], (3, 6], (6, inf).
DEFAULT_EDGES = (1.5, 3.0, 6.0)


class CocBand(TypedDict):
    """One band of a result's ``coc_bands``; the rates are None for a band with no pixels."""

    band_px: str
    pixels: int
    accuracy: float | None
    mae: float | None
    predicted_in_focus: float | None


def band_labels(edges=DEFAULT_EDGES) -> list[str]:
    bounds = [0.0, *edges]
    labels = [f"[{bounds[0]:g}, {bounds[1]:g}]"]
    labels += [f"({a:g}, {b:g}]" for a, b in itertools.pairwise(bounds[1:])]
    labels.append(f"({edges[-1]:g}, inf)")
    return labels


class CocBands:
    """Per CoC band: pixel count, accuracy at the fixed threshold, mean |score - GT|, fraction predicted in focus."""

    def __init__(self, protocol: Protocol, edges=DEFAULT_EDGES):
        self.protocol = protocol
        self.edges = np.asarray(edges, dtype=np.float64)
        k = len(edges) + 1
        self.count = np.zeros(k, dtype=np.int64)
        self.correct = np.zeros(k, dtype=np.int64)
        self.focus_predicted = np.zeros(k, dtype=np.int64)
        self.abs_error = np.zeros(k)

    def step(self, pair: PreparedPair, coc: np.ndarray) -> None:
        if coc.shape != pair.positive.shape:
            from ..resize import resize

            coc = resize(coc, pair.positive.shape, "nearest")
        band = np.searchsorted(self.edges, coc.ravel(), side="left")  # value == edge falls in the lower band
        score = pair.score if pair.score is not None else pair.quantised / 255.0
        score = score.ravel()
        positive = pair.positive.ravel()
        predicted = score >= self.protocol.fixed_threshold
        k = len(self.count)
        self.count += np.bincount(band, minlength=k)
        self.correct += np.bincount(band, weights=(predicted == positive), minlength=k).astype(np.int64)
        predicted_focus = predicted if self.protocol.positive == "focus" else ~predicted
        self.focus_predicted += np.bincount(band, weights=predicted_focus, minlength=k).astype(np.int64)
        self.abs_error += np.bincount(band, weights=np.abs(score - positive), minlength=k)

    def results(self) -> list[CocBand]:
        out: list[CocBand] = []
        for label, n, c, fp, e in zip(
            band_labels(self.edges), self.count, self.correct, self.focus_predicted, self.abs_error
        ):
            out.append(
                {
                    "band_px": label,
                    "pixels": int(n),
                    "accuracy": float(c / n) if n else None,
                    "mae": float(e / n) if n else None,
                    "predicted_in_focus": float(fp / n) if n else None,
                }
            )
        return out
