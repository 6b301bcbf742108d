"""One image's map and ground truth, prepared once and shared by every metric.

Preparation applies the protocol (polarity, GT threshold, min-max
normalisation, resize, quantisation) so metrics only ever see a *score* for the
positive class and a boolean positive mask. The joint 2 x 256 histogram of the
quantised score over GT-negative / GT-positive pixels is built lazily, once,
with a single ``bincount``; every threshold-based statistic comes from it.

Fast path: an 8-bit map at GT resolution without min-max normalisation (the
common case for cached maps) never becomes a float image at all; MAE and the
adaptive and fixed thresholds are then computed from the histogram exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..protocols import Protocol
from ..resize import resize, resize_pillow_8bit


@dataclass
class PreparedPair:
    positive: np.ndarray  # bool, GT positive class
    #: Continuous score in [0, 1] (float64), or None on the 8-bit fast path.
    score: np.ndarray | None
    #: Quantised score 0..255 (uint8), the domain of the threshold curves.
    quantised: np.ndarray
    #: The soft GT of the positive class in [0, 1] (float64), only when the protocol's ``mae_gt`` is "soft".
    gt_soft: np.ndarray | None = None
    _hist: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_pixels(self) -> int:
        return int(self.positive.size)

    @property
    def hist(self) -> np.ndarray:
        """``hist[0]``: counts of quantised scores over GT-negative pixels, ``hist[1]`` over GT-positive."""
        if self._hist is None:
            # 9-bit index (positive << 8 | level) in uint16: half the memory traffic of an intp index.
            idx = self.positive.view(np.uint8).astype(np.uint16) << 8
            idx |= self.quantised
            self._hist = np.bincount(idx.ravel(), minlength=512).reshape(2, 256)
        return self._hist

    @property
    def n_positive(self) -> int:
        return int(self.hist[1].sum())

    def mean_score(self) -> float:
        if self.score is not None:
            return float(self.score.mean())
        levels = np.arange(256, dtype=np.int64)
        return float((self.hist.sum(axis=0) * levels).sum()) / (255.0 * self.n_pixels)

    def mean_level(self) -> float:
        """Mean of the quantised 8-bit score (what ``np.mean`` of the uint8 map gives: an exact sum, one division)."""
        levels = np.arange(256, dtype=np.int64)
        return float(int((self.hist.sum(axis=0) * levels).sum())) / self.n_pixels

    def counts_above_level(self, threshold: float) -> tuple[int, int]:
        """(true positives, predicted positives) for ``quantised > threshold`` (strictly; any real threshold)."""
        selected = np.arange(256) > threshold
        tp = int(self.hist[1][selected].sum())
        return tp, tp + int(self.hist[0][selected].sum())

    def counts_at(self, threshold: float) -> tuple[int, int]:
        """(true positives, predicted positives) for ``score >= threshold`` on the continuous score."""
        if self.score is not None:
            predicted = self.score >= threshold
            return int(np.count_nonzero(predicted & self.positive)), int(np.count_nonzero(predicted))
        # 8-bit path: score values are exactly level / 255, so compare those same float64 values.
        selected = (np.arange(256) / 255.0) >= threshold
        tp = int(self.hist[1][selected].sum())
        return tp, tp + int(self.hist[0][selected].sum())

    def absolute_error(self) -> float:
        """Mean |score - GT| over the image, on the continuous score (against the soft GT when it is kept)."""
        if self.gt_soft is not None:
            score = self.score if self.score is not None else self.quantised / 255.0
            return float(np.mean(np.abs(self.gt_soft - score)))
        if self.score is not None:
            return float(np.mean(np.abs(self.score - self.positive)))
        levels = np.arange(256, dtype=np.float64) / 255.0
        err = (self.hist[0] * levels).sum() + (self.hist[1] * (1.0 - levels)).sum()
        return float(err) / self.n_pixels


def focus_gt(gt_raw: np.ndarray, gt_polarity: str, threshold: float) -> np.ndarray:
    """Binary in-focus mask from a raw 0..255 GT: polarity normalised first, then ``> threshold``."""
    if gt_polarity == "blur":
        gt_raw = 255 - gt_raw  # uint8 stays uint8 (exact), floats stay floats
    return gt_raw > threshold


def soft_focus_gt(gt_raw: np.ndarray, gt_polarity: str) -> np.ndarray:
    """The in-focus GT as a float in [0, 1], computed as depth-distillation's loader does: ``raw / 255``, or
    ``1 - raw / 255`` for blur-white GT (its ``mask = 1 - mask`` on CUHK)."""
    soft = np.asarray(gt_raw, dtype=np.float64) / 255.0
    return 1.0 - soft if gt_polarity == "blur" else soft


def adaptive_focus_gt(gt_raw: np.ndarray, gt_polarity: str, factor: float) -> np.ndarray:
    """depth-distillation's GT mask: the 8-bit in-focus GT ``g = np.uint8(soft * 255)`` (truncated, as the notebook
    converts its float GT) is in focus where ``g > min(factor x mean(g), 255)``, per image."""
    if gt_polarity == "focus" and gt_raw.dtype == np.uint8:
        g = gt_raw  # np.uint8((v / 255) * 255) == v for every 8-bit v
    else:
        g = np.clip(soft_focus_gt(gt_raw, gt_polarity) * 255, 0, 255).astype(np.uint8)
    return g > min(factor * float(np.mean(g)), 255.0)


def prepare(
    map_raw: np.ndarray,
    gt_raw: np.ndarray,
    protocol: Protocol,
    *,
    map_polarity: str = "focus",
    gt_polarity: str = "focus",
) -> PreparedPair:
    """Apply ``protocol`` to one raw map and raw GT (both on the 0..255 scale, as :func:`dbdbench.io.read_gray` gives).

    Order: a fixed-size resize rule first (8-bit, as the Python scripts it reproduces), then min-max and
    polarity, then resizing to the GT (on the continuous map), then quantisation.
    """
    from ..errors import DbdbenchError

    fixed = protocol.fixed_size()
    if fixed is not None and protocol.gt_resize == "nearest" and gt_raw.shape != fixed:
        gt_raw = resize_pillow_8bit(_as_uint8(gt_raw), fixed, nearest=True)
    if protocol.gt_rule == "adaptive":
        focus = adaptive_focus_gt(gt_raw, gt_polarity, protocol.adaptive_factor)
    else:
        focus = focus_gt(gt_raw, gt_polarity, protocol.gt_threshold)
    positive = focus if protocol.positive == "focus" else ~focus
    gt_soft = None
    if protocol.mae_gt == "soft":
        gt_soft = soft_focus_gt(gt_raw, gt_polarity)
        if protocol.positive != "focus":
            gt_soft = 1.0 - gt_soft
    # Score of the positive class: invert once if map and class disagree.
    invert = (map_polarity == "focus") != (protocol.positive == "focus")

    if fixed is not None:
        map_raw = resize_pillow_8bit(_as_uint8(map_raw), fixed)
        if map_raw.shape != positive.shape:
            raise DbdbenchError(
                f"protocol {protocol.name!r} resizes maps to {fixed[1]}x{fixed[0]} and scores them against GT of that "
                f"size, as its source does; this GT is {positive.shape[1]}x{positive.shape[0]} "
                "(score the Zhao lab's 320x320 release instead, e.g. --dataset xu100 for CUHK-TE-1, or add --resize bilinear to score at GT resolution)"
            )
    resize_needed = map_raw.shape != positive.shape
    if resize_needed and protocol.resize == "none":
        raise DbdbenchError(
            f"map size {map_raw.shape[1]}x{map_raw.shape[0]} differs from GT size {positive.shape[1]}x{positive.shape[0]} "
            "and the protocol's resize rule is 'none'"
        )

    if protocol.quantisation == "compare":
        pair = _prepare_compare(map_raw, positive, protocol, invert, resize_needed)
        pair.gt_soft = gt_soft
        return pair

    raw = 255 - map_raw if invert else map_raw  # uint8 stays uint8 (exact), floats stay floats
    if raw.dtype == np.uint8 and not protocol.minmax and not resize_needed:
        return PreparedPair(positive=positive, score=None, quantised=raw, gt_soft=gt_soft)

    score = raw / 255  # float64, the same operation PySODMetrics uses (im2double)
    if protocol.minmax:
        lo, hi = score.min(), score.max()
        if hi != lo:
            score = (score - lo) / (hi - lo)
    if resize_needed:
        score = resize(score, positive.shape, protocol.resize)
    score = np.clip(score, 0.0, 1.0)  # a no-op for in-range inputs; guards odd float maps and resize overshoot
    if protocol.quantisation == "floor":
        quantised = (score * 255).astype(np.uint8)
    else:
        quantised = np.rint(score * 255).astype(np.uint8)
    return PreparedPair(positive=positive, score=score, quantised=quantised, gt_soft=gt_soft)


def _prepare_compare(map_raw, positive, protocol: Protocol, invert: bool, resize_needed: bool) -> PreparedPair:
    """MATLAB's ``map >= t`` on the unquantised 0..255 map (HiFST's PRDataComputation.m).

    ``mat2gray`` as MATLAB defines it: ``(m - min) / (max - min)``; a constant map is kept as it is,
    clipped to [0, 1]. For 8-bit maps this arithmetic gives floor of the exact value at every tie
    (checked exhaustively for every min/max pair in the tests).
    """
    v = np.asarray(map_raw, dtype=np.float64)
    if protocol.minmax:
        lo, hi = float(v.min()), float(v.max())
        x = (v - lo) / (hi - lo) if hi != lo else np.clip(v, 0.0, 1.0)
        v = x * 255
    if invert:
        v = 255 - v
    if resize_needed:
        v = resize(v, positive.shape, protocol.resize)
    # Values a bicubic resize pushes below 0 are counted at t = 0 here (MATLAB never counts them): a
    # difference only where a resized map overshoots.
    v = np.clip(v, 0.0, 255.0)
    return PreparedPair(positive=positive, score=v / 255, quantised=np.floor(v).astype(np.uint8))


def _as_uint8(raw: np.ndarray) -> np.ndarray:
    if raw.dtype == np.uint8:
        return raw
    return np.clip(np.rint(raw), 0, 255).astype(np.uint8)
