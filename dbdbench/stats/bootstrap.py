"""Percentile bootstrap over images, vectorised over resamples.

Every headline metric is some function of per-image *parts* averaged over the images: a per-image value
(MAE, F at a per-image threshold), per-image precision and recall (F of the mean P/R), per-image curves
(the maximum and mean of a mean F curve), or per-image counts (pooled ratios such as TP / (TP + FP + FN):
a ratio of sums is the same ratio of means). A :class:`Resampling` says which parts and which function,
and each measure in :mod:`dbdbench.metrics` gives its own, so a new metric plugs in by declaring them.

One resample draws n images with replacement; it is a row of counts c (how often each image was drawn,
summing to n), and its parts' means are ``c @ parts / n``. A block of resamples is one matrix product,
so 1000 resamples of 704 images with 512-value curves take a fraction of a second. Images are drawn with
``numpy.random.default_rng(seed).integers`` in blocks of :data:`BLOCK` resamples: the same n, resample
count and seed always give the same counts, which is what makes a paired comparison paired (both results
see the same resampled images) and a rerun identical.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DbdbenchError
from .per_image import PerImageData

#: What the ``ci`` record calls the method.
METHOD = "percentile bootstrap over images"
#: Resamples drawn and reduced at a time: bounds memory at BLOCK x n counts whatever the resample count.
BLOCK = 250
#: Interval ends are rounded to this many decimals, so that a rerun on another BLAS build (whose matrix
#: products may differ in the last bit) still writes the same bytes.
DECIMALS = 10


@dataclass(frozen=True)
class BootstrapSettings:
    """``--ci LEVEL``, ``--resamples N``, ``--seed S``."""

    level: float = 0.95
    resamples: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.level < 1:
            raise DbdbenchError(f"confidence level {self.level}: expected a number between 0 and 1, e.g. 0.95")
        if self.resamples < 1:
            raise DbdbenchError(f"resamples {self.resamples}: expected a positive number")

    def percentiles(self) -> tuple[float, float]:
        tail = 50.0 * (1.0 - self.level)
        return tail, 100.0 - tail


@dataclass(frozen=True)
class Resampling:
    """How one metric is recomputed on a resample of images.

    ``parts(data)`` gives an (n, k) float array of per-image parts; ``reduce(means)`` maps an (R, k) array of
    the parts' means over R resamples to the metric's R values. Two metrics whose ``parts`` is the same
    function object share one matrix product (f_max and f_mean share the per-image curves).

    ``batch``: a metric defined on consecutive batches of this many images (a protocol that pools each test
    batch, as Explicit-Visual-Prompt's code does) resamples whole batches instead: ``parts`` then gives one row
    per batch (:func:`batch_sums` helps), in order, the last one possibly partial.
    """

    parts: Callable[[PerImageData], np.ndarray]
    reduce: Callable[[np.ndarray], np.ndarray]
    batch: int = 1

    @classmethod
    def mean_of(cls, column: str) -> Resampling:
        """A metric that is the mean over images of one per-image value."""
        return cls(lambda data: data.column(column)[:, None], lambda means: means[:, 0])

    @classmethod
    def of_columns(cls, columns: Sequence[str], reduce: Callable[[np.ndarray], np.ndarray]) -> Resampling:
        """A function of the means of several per-image values (``reduce`` gets them as columns, in order)."""
        names = tuple(columns)
        return cls(lambda data: np.stack([data.column(c) for c in names], axis=1), reduce)


def batch_sums(values: np.ndarray, batch: int) -> np.ndarray:
    """Sums over consecutive batches of ``batch`` rows (the last batch possibly partial): (n, ...) -> (B, ...)."""
    values = np.asarray(values)
    return np.add.reduceat(values, np.arange(0, values.shape[0], batch), axis=0)


def units(spec: Resampling, n: int) -> int:
    """How many units (images, or batches of images) a metric resamples."""
    return n if spec.batch <= 1 else -(-n // spec.batch)


def resample_counts(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of resamples as (b, n) float64 counts: row r counts how often each image was drawn in resample r."""
    if n < 1:
        raise DbdbenchError("no images to resample")
    rng = np.random.default_rng(seed)
    done = 0
    while done < resamples:
        b = min(BLOCK, resamples - done)
        drawn = rng.integers(0, n, size=(b, n))
        flat = (drawn + (np.arange(b) * n)[:, None]).ravel()
        yield np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)
        done += b


def _by_units(specs: Mapping[str, Resampling], n: int) -> dict[int, dict[str, Resampling]]:
    groups: dict[int, dict[str, Resampling]] = {}
    for key, spec in specs.items():
        groups.setdefault(units(spec, n), {})[key] = spec
    return groups


def point_values(specs: Mapping[str, Resampling], data: PerImageData) -> dict[str, float]:
    """Each metric on the images as they are (every count 1): equals the result's own numbers."""
    out: dict[str, float] = {}
    for n_units, group in _by_units(specs, data.n).items():
        ones = np.ones((1, n_units))
        out.update({k: float(v[0]) for k, v in _reduce_block(group, data, ones, {}).items()})
    return {k: out[k] for k in specs}


def distributions(
    specs: Mapping[str, Resampling], data: PerImageData, resamples: int, seed: int
) -> dict[str, np.ndarray]:
    """Each metric's values over the resamples, (resamples,) each, in resample order. Metrics that resample
    batches draw their own counts over the batches (from the same seed)."""
    cache: dict[int, np.ndarray] = {}
    blocks: dict[str, list[np.ndarray]] = {k: [] for k in specs}
    for n_units, group in _by_units(specs, data.n).items():
        for counts in resample_counts(n_units, resamples, seed):
            for k, values in _reduce_block(group, data, counts, cache).items():
                blocks[k].append(values)
    return {k: np.concatenate(blocks[k]) for k in specs}


def _reduce_block(
    specs: Mapping[str, Resampling], data: PerImageData, counts: np.ndarray, cache: dict[int, np.ndarray]
) -> dict[str, np.ndarray]:
    means: dict[int, np.ndarray] = {}
    out = {}
    for key, spec in specs.items():
        pid = id(spec.parts)
        if pid not in means:
            if pid not in cache:
                cache[pid] = np.asarray(spec.parts(data), dtype=np.float64)
            if cache[pid].shape[0] != counts.shape[1]:
                raise DbdbenchError(f"resampling parts of {cache[pid].shape[0]} rows for {counts.shape[1]} units")
            means[pid] = counts @ cache[pid] / counts.shape[1]
        out[key] = np.asarray(spec.reduce(means[pid]), dtype=np.float64)
    return out


def interval(values: np.ndarray, settings: BootstrapSettings) -> list[float]:
    """The percentile interval [lo, hi] of a bootstrap distribution (numpy's linear interpolation)."""
    lo, hi = np.percentile(values, settings.percentiles())
    return [round(float(lo), DECIMALS), round(float(hi), DECIMALS)]


def p_value(differences: np.ndarray) -> float:
    """Two-sided bootstrap p-value of "no difference", by inverting the percentile interval:
    ``min(1, 2 min(#(d <= 0) + 1, #(d >= 0) + 1) / (R + 1))`` over the R resampled differences d.

    It is below 1 - level exactly when the level's percentile interval of d (nearly) excludes 0; its
    smallest value is 2 / (R + 1) (0.002 for 1000 resamples). Differences within 1e-12 of 0 (float
    summation noise) count as ties."""
    d = np.asarray(differences, dtype=np.float64)
    d = np.where(np.abs(d) <= 1e-12, 0.0, d)
    r = d.size
    below, above = int(np.count_nonzero(d <= 0)), int(np.count_nonzero(d >= 0))
    return min(1.0, 2.0 * (min(below, above) + 1) / (r + 1))


def ci_record(
    specs: Mapping[str, Resampling], data: PerImageData, metrics: Sequence[str], settings: BootstrapSettings
) -> dict:
    """The result's ``ci`` record: an interval for every metric in ``metrics`` that has a resampling rule.

    Metrics without one (a plugin's measure that declares no ``resampling``) are listed under
    ``not_resampled`` rather than silently left out."""
    wanted = {k: specs[k] for k in metrics if k in specs}
    dist = distributions(wanted, data, settings.resamples, settings.seed)
    record: dict = {
        "level": settings.level,
        "method": METHOD,
        "resamples": settings.resamples,
        "seed": settings.seed,
        "metrics": {k: interval(dist[k], settings) for k in metrics if k in dist},
    }
    missing = [k for k in metrics if k not in specs]
    if missing:
        record["not_resampled"] = missing
    return record


def settings_of(record: Mapping) -> BootstrapSettings:
    """The settings a ``ci`` record was made with."""
    return BootstrapSettings(float(record["level"]), int(record["resamples"]), int(record["seed"]))
