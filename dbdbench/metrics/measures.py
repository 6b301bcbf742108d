"""Metrics as small step/results classes (one image in, one aggregate out).

Each class sees a :class:`~dbdbench.metrics.pair.PreparedPair` per image in
``step`` (returning that image's values, kept for ``per_image.csv``) and gives
the dataset-level value in ``results``. Running sums, not lists of arrays, so
memory stays flat however many images are scored. ``resampling`` says how that
value is recomputed from per-image parts on a resample of the images (the
bootstrap of ``--ci`` and ``compare``, :mod:`dbdbench.stats.bootstrap`); a new
measure declares it too, or its metric gets no interval.

Conventions (stated once, here): precision is 0 where nothing is predicted
positive; recall is 0 where the GT has no positive pixel; F is 0 where
precision and recall are both 0.
"""

from __future__ import annotations

import numpy as np

from ..protocols import Protocol
from ..stats.bootstrap import Resampling
from .pair import PreparedPair

THRESHOLDS = np.arange(256)


def f_beta(precision, recall, beta2: float):
    """F-measure, vectorised; 0 where precision and recall are both 0."""
    precision = np.asarray(precision, dtype=np.float64)
    recall = np.asarray(recall, dtype=np.float64)
    num = (1.0 + beta2) * precision * recall
    den = beta2 * precision + recall
    return np.divide(num, den, out=np.zeros_like(num), where=num > 0)


def precision_recall(tp, predicted, n_positive):
    """Precision and recall from counts, with the zero conventions above."""
    tp = np.asarray(tp, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = tp / n_positive if n_positive > 0 else np.zeros_like(tp)
    return precision, recall


def curves_of(hist: np.ndarray, beta2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-image precision, recall and F curves (each (n, 256)) from (n, 2, 256) histograms: the same arithmetic
    as :meth:`ThresholdCurves.step`, for every image at once (the bootstrap's per-image parts)."""
    hist = np.asarray(hist)
    tp = np.cumsum(hist[:, 1, ::-1], axis=1)[:, ::-1].astype(np.float64)
    predicted = tp + np.cumsum(hist[:, 0, ::-1], axis=1)[:, ::-1]
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    n_positive = tp[:, :1]  # t = 0: every pixel counts, so tp there is the number of positive pixels
    recall = np.divide(tp, n_positive, out=np.zeros_like(tp), where=n_positive > 0)
    return precision, recall, f_beta(precision, recall, beta2)


class ThresholdCurves:
    """Precision, recall and F at every threshold t = 0..255 (score level >= t) from the 256-bin histograms.

    ``f_max`` and ``f_mean`` are the max and mean of the dataset F curve, which
    is the mean of per-image F curves (aggregation "image") or the F of the mean
    precision and recall curves (aggregation "curve").
    """

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.n = 0
        self.sum_p = np.zeros(256)
        self.sum_r = np.zeros(256)
        self.sum_f = np.zeros(256)

    def step(self, pair: PreparedPair) -> dict[str, float]:
        neg, pos = pair.hist
        # Reverse cumulative sums: counts of pixels whose level is >= t, for every t at once.
        tp = np.cumsum(pos[::-1])[::-1]
        predicted = tp + np.cumsum(neg[::-1])[::-1]
        p, r = precision_recall(tp, predicted, int(pos.sum()))
        f = f_beta(p, r, self.protocol.beta2)
        self.n += 1
        self.sum_p += p
        self.sum_r += r
        self.sum_f += f
        return {"f_max": float(f.max()), "f_mean": float(f.mean())}

    def curves(self) -> dict[str, list[float]]:
        n = max(self.n, 1)
        p, r = self.sum_p / n, self.sum_r / n
        f = self.sum_f / n if self.protocol.aggregation == "image" else f_beta(p, r, self.protocol.beta2)
        return {"threshold": THRESHOLDS.tolist(), "precision": p.tolist(), "recall": r.tolist(), "f": f.tolist()}

    def results(self) -> dict[str, float]:
        f = np.asarray(self.curves()["f"])
        return {"f_max": float(f.max()), "f_mean": float(f.mean())}

    def resampling(self) -> dict[str, Resampling]:
        """f_max and f_mean from resampled per-image curves: F curves (aggregation "image") or P and R curves
        ("curve"), recomputed from the histograms; one shared parts function, so one matrix product."""
        beta2 = self.protocol.beta2
        if self.protocol.aggregation == "image":

            def parts(data):
                return curves_of(data.hist, beta2)[2]

            def curve(means):
                return means

        else:

            def parts(data):
                precision, recall, _ = curves_of(data.hist, beta2)
                return np.concatenate([precision, recall], axis=1)

            def curve(means):
                return f_beta(means[:, :256], means[:, 256:], beta2)

        return {
            "f_max": Resampling(parts, lambda means: curve(means).max(axis=1)),
            "f_mean": Resampling(parts, lambda means: curve(means).mean(axis=1)),
        }


class _ThresholdF:
    """F at one per-image threshold on the continuous score, aggregated per the protocol."""

    key = ""

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.n = 0
        self.sum_f = self.sum_p = self.sum_r = 0.0

    def threshold(self, pair: PreparedPair) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self, pair: PreparedPair) -> dict[str, float]:
        t = self.threshold(pair)
        tp, predicted = pair.counts_at(t)
        p, r = precision_recall(tp, predicted, pair.n_positive)
        f = float(f_beta(p, r, self.protocol.beta2))
        self.n += 1
        self.sum_f, self.sum_p, self.sum_r = self.sum_f + f, self.sum_p + float(p), self.sum_r + float(r)
        return {self.key: f, f"{self.key}_precision": float(p), f"{self.key}_recall": float(r)}

    def results(self) -> dict[str, float]:
        n = max(self.n, 1)
        if self.protocol.aggregation == "image":
            return {self.key: self.sum_f / n}
        return {self.key: float(f_beta(self.sum_p / n, self.sum_r / n, self.protocol.beta2))}

    def resampling(self) -> dict[str, Resampling]:
        """The mean of per-image F, or ("curve") the F of the mean per-image precision and recall."""
        if self.protocol.aggregation == "image":
            return {self.key: Resampling.mean_of(self.key)}
        beta2 = self.protocol.beta2
        columns = (f"{self.key}_precision", f"{self.key}_recall")
        return {self.key: Resampling.of_columns(columns, lambda means: f_beta(means[:, 0], means[:, 1], beta2))}


class AdaptiveF(_ThresholdF):
    """F at the adaptive threshold min(factor x mean score, 1) of each image."""

    key = "f_adaptive"

    def threshold(self, pair: PreparedPair) -> float:
        return min(self.protocol.adaptive_factor * pair.mean_score(), 1.0)


class FixedF(_ThresholdF):
    """F at the protocol's fixed threshold (0.5 by default)."""

    key = "f_fixed"

    def threshold(self, pair: PreparedPair) -> float:
        return self.protocol.fixed_threshold


class FScore1:
    """D-DFFNet's ``F_score1`` (``utils.py``): per image, the larger of F at the fixed threshold and F when every
    pixel is called positive (their thresholds ``linspace(0, 1, 255)`` on a binarised map reduce to these two);
    averaged over images."""

    key = "f_score1"

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.n = 0
        self.total = 0.0

    def step(self, pair: PreparedPair) -> dict[str, float]:
        tp, predicted = pair.counts_at(self.protocol.fixed_threshold)
        p, r = precision_recall(tp, predicted, pair.n_positive)
        f_fixed = float(f_beta(p, r, self.protocol.beta2))
        p_all, r_all = precision_recall(pair.n_positive, pair.n_pixels, pair.n_positive)
        f = max(f_fixed, float(f_beta(p_all, r_all, self.protocol.beta2)))
        self.n += 1
        self.total += f
        return {self.key: f}

    def results(self) -> dict[str, float]:
        return {self.key: self.total / max(self.n, 1)}

    def resampling(self) -> dict[str, Resampling]:
        return {self.key: Resampling.mean_of(self.key)}


class MAE:
    """Mean absolute error between the continuous score and the binary GT, averaged over images."""

    def __init__(self, protocol: Protocol):
        self.n = 0
        self.total = 0.0

    def step(self, pair: PreparedPair) -> dict[str, float]:
        mae = pair.absolute_error()
        self.n += 1
        self.total += mae
        return {"mae": mae}

    def results(self) -> dict[str, float]:
        return {"mae": self.total / max(self.n, 1)}

    def resampling(self) -> dict[str, Resampling]:
        return {"mae": Resampling.mean_of("mae")}
