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
precision and recall are both 0 (scikit-learn's ``zero_division=0``); IoU is 0
where prediction and GT are both empty.

Pooled metrics (aggregation ``pixel``, ``iou``) are ratios of counts summed
over images; ``step`` returns each image's counts (``<key>_tp``,
``<key>_predicted``, ``iou_tp``/``iou_fp``/``iou_fn``; the record's
``n_positive``), and a ratio of sums is the same ratio of means, so a resample
recomputes them with :func:`pooled_f` / :func:`pooled_iou` on mean counts.
"""

from __future__ import annotations

import numpy as np

from ..protocols import Protocol
from ..stats.bootstrap import Resampling, batch_sums
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
    """Precision and recall from counts, with the zero conventions above (vectorised, ``n_positive`` too)."""
    tp = np.asarray(tp, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    n_positive = np.broadcast_to(np.asarray(n_positive, dtype=np.float64), tp.shape)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, n_positive, out=np.zeros_like(tp), where=n_positive > 0)
    return precision, recall


def pooled_f(tp, predicted, n_positive, beta2: float):
    """(precision, recall, F) of counts summed over the pixels of many images (aggregation "pixel"), vectorised."""
    p, r = precision_recall(tp, predicted, n_positive)
    return p, r, f_beta(p, r, beta2)


def pooled_iou(tp, fp, fn):
    """IoU = TP / (TP + FP + FN) of summed counts; 0 where the union is empty (vectorised)."""
    tp = np.asarray(tp, dtype=np.float64)
    union = tp + np.asarray(fp, dtype=np.float64) + np.asarray(fn, dtype=np.float64)
    return np.divide(tp, union, out=np.zeros_like(tp), where=union > 0)


class _Pool:
    """TP / predicted / GT-positive counts summed over pixels, per group of ``size`` consecutive images (0: one
    group of every image); the result is the size-weighted mean over groups of each group's precision, recall
    and F (one group: simply those of the pooled counts). Counts may be scalars or per-threshold arrays."""

    def __init__(self, size: int, beta2: float, shape: tuple[int, ...] = ()):
        self.size, self.beta2, self.shape = size, beta2, shape
        self.tp, self.predicted, self.positive, self.count = np.zeros(shape), np.zeros(shape), 0.0, 0
        self.closed = [np.zeros(shape), np.zeros(shape), np.zeros(shape)]  # size-weighted sums of P, R, F
        self.weight = 0

    def add(self, tp, predicted, positive) -> None:
        self.tp = self.tp + tp
        self.predicted = self.predicted + predicted
        self.positive += positive
        self.count += 1
        if self.size and self.count == self.size:
            self.closed = self._with_open_group()
            self.weight += self.count
            self.tp, self.predicted, self.positive, self.count = np.zeros(self.shape), np.zeros(self.shape), 0.0, 0

    def _with_open_group(self) -> list[np.ndarray]:
        if self.count == 0:
            return list(self.closed)
        group = pooled_f(self.tp, self.predicted, self.positive, self.beta2)
        return [c + self.count * g for c, g in zip(self.closed, group)]

    def results(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(precision, recall, F), the last, partial group included."""
        total = self.weight + self.count
        if total == 0:
            return np.zeros(self.shape), np.zeros(self.shape), np.zeros(self.shape)
        p, r, f = (x / total for x in self._with_open_group())
        return p, r, f


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
    is the mean of per-image F curves (aggregation "image"), the F of the mean
    precision and recall curves (aggregation "curve"), or the F curve of TP and
    predicted counts summed over every pixel (aggregation "pixel").
    """

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.n = 0
        self.sum_p = np.zeros(256)
        self.sum_r = np.zeros(256)
        self.sum_f = np.zeros(256)
        self.pool = _Pool(protocol.pool_images, protocol.beta2, (256,))

    def step(self, pair: PreparedPair) -> dict[str, float]:
        neg, pos = pair.hist
        # Reverse cumulative sums: counts of pixels whose level is >= t, for every t at once.
        tp = np.cumsum(pos[::-1])[::-1]
        predicted = tp + np.cumsum(neg[::-1])[::-1]
        n_positive = int(pos.sum())
        p, r = precision_recall(tp, predicted, n_positive)
        f = f_beta(p, r, self.protocol.beta2)
        self.n += 1
        self.sum_p += p
        self.sum_r += r
        self.sum_f += f
        if self.protocol.aggregation == "pixel":
            self.pool.add(tp, predicted, n_positive)
        return {"f_max": float(f.max()), "f_mean": float(f.mean())}

    def curves(self) -> dict[str, list[float]]:
        n = max(self.n, 1)
        if self.protocol.aggregation == "pixel":
            p, r, f = self.pool.results()
        else:
            p, r = self.sum_p / n, self.sum_r / n
            f = self.sum_f / n if self.protocol.aggregation == "image" else f_beta(p, r, self.protocol.beta2)
        return {"threshold": THRESHOLDS.tolist(), "precision": p.tolist(), "recall": r.tolist(), "f": f.tolist()}

    def results(self) -> dict[str, float]:
        f = np.asarray(self.curves()["f"])
        return {"f_max": float(f.max()), "f_mean": float(f.mean())}

    def resampling(self) -> dict[str, Resampling]:
        """f_max and f_mean from resampled per-image curves, recomputed from the histograms: F curves (aggregation
        "image"), P and R curves ("curve"), TP and predicted counts ("pixel"), or with ``pool_images`` each batch's
        pooled F curve, resampling batches. One shared parts function, so one matrix product."""
        beta2 = self.protocol.beta2
        batch = self.protocol.pool_images if self.protocol.aggregation == "pixel" else 0

        def counts(data):  # per-image TP and predicted counts at every threshold
            hist = np.asarray(data.hist, dtype=np.float64)
            tp = np.cumsum(hist[:, 1, ::-1], axis=1)[:, ::-1]
            return np.concatenate([tp, tp + np.cumsum(hist[:, 0, ::-1], axis=1)[:, ::-1]], axis=1)

        if batch:  # pooled per batch of images: resample batches; each batch's F curve weighted by its size

            def parts(data):
                pooled = batch_sums(counts(data), batch)
                size = batch_sums(np.ones((data.n, 1)), batch)
                f = pooled_f(pooled[:, :256], pooled[:, 256:], pooled[:, :1], beta2)[2]
                return np.concatenate([size * f, size], axis=1)

            def curve(means):
                return means[:, :256] / means[:, 256:]

        elif self.protocol.aggregation == "pixel":

            def parts(data):  # the pooled counts' means
                return counts(data)

            def curve(means):  # tp at t = 0 counts every positive pixel
                return pooled_f(means[:, :256], means[:, 256:], means[:, :1], beta2)[2]

        elif self.protocol.aggregation == "image":

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
            "f_max": Resampling(parts, lambda means: curve(means).max(axis=1), batch=batch or 1),
            "f_mean": Resampling(parts, lambda means: curve(means).mean(axis=1), batch=batch or 1),
        }


class _ThresholdF:
    """F at one per-image threshold on the continuous score, aggregated per the protocol.

    Per image: F, precision, recall and the counts behind them (``<key>_tp``, ``<key>_predicted``; the GT
    positives are the record's ``n_positive``), so every aggregation can be recomputed from the rows.
    """

    key = ""

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.n = 0
        self.sum_f = self.sum_p = self.sum_r = 0.0
        self.pool = _Pool(protocol.pool_images, protocol.beta2)

    def threshold(self, pair: PreparedPair) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def counts(self, pair: PreparedPair) -> tuple[int, int]:
        """(true positives, predicted positives) of this image."""
        return pair.counts_at(self.threshold(pair))

    def step(self, pair: PreparedPair) -> dict[str, float]:
        tp, predicted = self.counts(pair)
        p, r = precision_recall(tp, predicted, pair.n_positive)
        f = float(f_beta(p, r, self.protocol.beta2))
        self.n += 1
        self.sum_f, self.sum_p, self.sum_r = self.sum_f + f, self.sum_p + float(p), self.sum_r + float(r)
        if self.protocol.aggregation == "pixel":
            self.pool.add(tp, predicted, pair.n_positive)
        return {
            self.key: f,
            f"{self.key}_precision": float(p),
            f"{self.key}_recall": float(r),
            f"{self.key}_tp": tp,
            f"{self.key}_predicted": predicted,
        }

    def results(self) -> dict[str, float]:
        n = max(self.n, 1)
        if self.protocol.aggregation == "image":
            return {self.key: self.sum_f / n}
        if self.protocol.aggregation == "pixel":
            return {self.key: float(self.pool.results()[2])}
        return {self.key: float(f_beta(self.sum_p / n, self.sum_r / n, self.protocol.beta2))}

    def resampling(self) -> dict[str, Resampling]:
        """The mean of per-image F, ("curve") the F of the mean per-image precision and recall, or ("pixel") the F
        of the mean per-image counts (a ratio of sums is the same ratio of means)."""
        if self.protocol.aggregation == "image":
            return {self.key: Resampling.mean_of(self.key)}
        beta2 = self.protocol.beta2
        if self.protocol.aggregation == "pixel":
            counts = (f"{self.key}_tp", f"{self.key}_predicted", "n_positive")
            batch = self.protocol.pool_images
            if batch:  # pooled per batch of images: resample batches; each batch's F weighted by its size

                def parts(data):
                    pooled = batch_sums(np.stack([data.column(c) for c in counts], axis=1), batch)
                    size = batch_sums(np.ones(data.n), batch)
                    return np.stack([size * pooled_f(pooled[:, 0], pooled[:, 1], pooled[:, 2], beta2)[2], size], 1)

                return {self.key: Resampling(parts, lambda means: means[:, 0] / means[:, 1], batch=batch)}
            return {
                self.key: Resampling.of_columns(
                    counts, lambda means: pooled_f(means[:, 0], means[:, 1], means[:, 2], beta2)[2]
                )
            }
        columns = (f"{self.key}_precision", f"{self.key}_recall")
        return {self.key: Resampling.of_columns(columns, lambda means: f_beta(means[:, 0], means[:, 1], beta2))}


class AdaptiveF(_ThresholdF):
    """F at the adaptive threshold of each image: ``score >= min(factor x mean score, 1)`` (rule "score"), or on
    the quantised 8-bit score ``q > min(factor x mean(q), 255)`` (rule "level", depth-distillation's notebook)."""

    key = "f_adaptive"

    def threshold(self, pair: PreparedPair) -> float:
        return min(self.protocol.adaptive_factor * pair.mean_score(), 1.0)

    def counts(self, pair: PreparedPair) -> tuple[int, int]:
        if self.protocol.adaptive_rule == "level":
            return pair.counts_above_level(min(self.protocol.adaptive_factor * pair.mean_level(), 255.0))
        return super().counts(pair)


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


class IoU:
    """D-DFFNet's IoU (``test_iou1.py``): predicted positive where ``score >= fixed_threshold`` (8-bit maps under
    ``ddffnet``: map <= 127 is blurred), TP, FP and FN summed over every pixel of the dataset, one
    TP / (TP + FP + FN). Always pooled over the whole dataset (its definition), whatever the aggregation.
    Per image: that image's own IoU and its counts ``iou_tp``, ``iou_fp``, ``iou_fn``."""

    key = "iou"

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.tp = self.fp = self.fn = 0

    def step(self, pair: PreparedPair) -> dict[str, float]:
        tp, predicted = pair.counts_at(self.protocol.fixed_threshold)
        fp, fn = predicted - tp, pair.n_positive - tp
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
        return {self.key: float(pooled_iou(tp, fp, fn)), "iou_tp": tp, "iou_fp": fp, "iou_fn": fn}

    def results(self) -> dict[str, float]:
        return {self.key: float(pooled_iou(self.tp, self.fp, self.fn))}

    def resampling(self) -> dict[str, Resampling]:
        """The IoU of the mean per-image counts (a ratio of sums is the same ratio of means)."""
        columns = ("iou_tp", "iou_fp", "iou_fn")
        return {self.key: Resampling.of_columns(columns, lambda m: pooled_iou(m[:, 0], m[:, 1], m[:, 2]))}


class MAE:
    """Mean absolute error between the continuous score and the binary GT (or the soft GT, ``mae_gt=soft``),
    averaged over images."""

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
