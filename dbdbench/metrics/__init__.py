"""Metrics: histogram-based, vectorised, pure numpy, no I/O.

:class:`Evaluator` runs every metric over a stream of prepared image pairs and
keeps the per-image values; :func:`prepare` applies a protocol to raw arrays.
What each metric means and which direction is better: :mod:`dbdbench.metric_table`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict
from typing import Protocol as TypingProtocol

import numpy as np

from ..metric_table import CORE_METRICS, METRICS, RESULT_ORDER
from ..protocols import Protocol
from .coc_bands import CocBand, CocBands
from .measures import (
    MAE,
    AdaptiveF,
    FixedF,
    FScore1,
    IoU,
    ThresholdCurves,
    f_beta,
    pooled_f,
    pooled_iou,
    precision_recall,
)
from .pair import PreparedPair, focus_gt, prepare

if TYPE_CHECKING:
    from ..stats import PerImageData, Resampling


class _ScoresRequired(TypedDict):
    n_images: int
    metrics: dict[str, float]
    curves: dict[str, list[float]]


class Scores(_ScoresRequired, total=False):
    """What :meth:`Evaluator.results` gives: image count, headline metrics, curves, and CoC bands when GT has CoC."""

    coc_bands: list[CocBand]


class Measure(TypingProtocol):
    """What every scalar measure is: fed one prepared pair at a time, asked for its aggregate at the end.

    A measure should also have ``resampling() -> dict[str, Resampling]``: for each metric it reports, the
    per-image parts (values its ``step`` returned, or the histograms) and how their means give the metric, so
    ``--ci`` and ``compare`` can recompute it on resampled images (:mod:`dbdbench.stats.bootstrap`).
    """

    def step(self, pair: PreparedPair) -> dict[str, float]: ...

    def results(self) -> dict[str, float]: ...


class Evaluator:
    """Score a stream of images under one protocol; memory does not grow with the number of images
    (apart from one small per-image record and a 2 x 256 histogram per image)."""

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.curves = ThresholdCurves(protocol)
        self.scalars: list[Measure] = [
            MAE(protocol),
            AdaptiveF(protocol),
            FixedF(protocol),
            FScore1(protocol),
            IoU(protocol),
        ]
        self.coc_bands: CocBands | None = None
        self.per_image: list[dict[str, Any]] = []
        #: Each image's 2 x 256 histogram (4 KiB): what the curves' bootstrap resamples.
        self.histograms: list[np.ndarray] = []

    def step(self, stem: str, pair: PreparedPair, coc: np.ndarray | None = None) -> dict[str, Any]:
        record: dict[str, Any] = {"stem": stem}
        for measure in self.scalars:
            record.update(measure.step(pair))
        record.update(self.curves.step(pair))
        record["gt_positive_fraction"] = pair.n_positive / pair.n_pixels
        record["n_positive"], record["n_pixels"] = pair.n_positive, pair.n_pixels  # the pooled metrics' parts
        self.histograms.append(pair.hist)
        if coc is not None:
            if self.coc_bands is None:
                self.coc_bands = CocBands(self.protocol)
            self.coc_bands.step(pair, coc)
        self.per_image.append(record)
        return record

    def per_image_data(self) -> PerImageData:
        """Per-image parts of every metric (histograms and per-image values), to recompute them on resamples."""
        from ..stats import PerImageData

        return PerImageData.from_records(self.per_image, self.histograms)

    def resampling(self) -> dict[str, Resampling]:
        """How each metric is recomputed on a resample of images, from every measure that says so."""
        specs: dict[str, Resampling] = {}
        for measure in (*self.scalars, self.curves):
            declared = getattr(measure, "resampling", None)
            if declared is not None:
                specs.update(declared())
        return specs

    def results(self) -> Scores:
        metrics: dict[str, float] = {}
        for measure in self.scalars:
            metrics.update(measure.results())
        metrics.update(self.curves.results())
        ordered = {k: metrics[k] for k in RESULT_ORDER}
        out: Scores = {"n_images": len(self.per_image), "metrics": ordered, "curves": self.curves.curves()}
        if self.coc_bands is not None:
            out["coc_bands"] = self.coc_bands.results()
        return out


__all__ = [
    "CORE_METRICS",
    "MAE",
    "METRICS",
    "AdaptiveF",
    "CocBand",
    "CocBands",
    "Evaluator",
    "FScore1",
    "FixedF",
    "IoU",
    "PreparedPair",
    "Scores",
    "ThresholdCurves",
    "f_beta",
    "focus_gt",
    "pooled_f",
    "pooled_iou",
    "precision_recall",
    "prepare",
]
