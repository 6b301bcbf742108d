"""The one table of headline metrics: each one's name, which direction is better, what it means, and which
built-in protocols' sources define it.

Everything that names, orders or ranks metrics reads it: the Evaluator (the order a result lists them), the
protocol presets (``source_metrics``), the command line (arrows, ``list metrics``), the leaderboard (columns, best
values, footnotes), the figures and the report (which image is best), and the statistics (which row is best).
A metric's direction is written here, never inferred from its name (a trap PySODEvalToolkit fell into).

It imports nothing of dbdbench but its errors, so :mod:`dbdbench.protocols` and :mod:`dbdbench.metrics` (which imports the
protocols) can both read it. A new metric gets a row here and a measure in :mod:`dbdbench.metrics.measures`;
``tests/test_metric_table.py`` checks that the two agree.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from .errors import DbdbenchError

Better = Literal["higher", "lower"]


class Metric(NamedTuple):
    """One headline metric (its name is its key in :data:`METRICS`)."""

    #: What it measures, in one line (``dbdbench list metrics``).
    definition: str
    #: Which direction is better.
    better: Better
    #: The built-in protocols whose source computes it; under every other protocol it is an extra, footnoted.
    defined_by: tuple[str, ...]
    #: Carried by every result since the first schema: a result without it is refused (older results may lack
    #: the later metrics, and are shown without them).
    since_first_schema: bool = False
    #: Shown in a run's summary table even under protocols whose source does not define it (f_score1 is D-DFFNet's
    #: score for its own models, shown only under ``ddffnet``).
    summary_as_extra: bool = True

    @property
    def arrow(self) -> str:
        """``↑`` (higher is better) or ``↓`` (lower is better), as tables head the metric's column."""
        return "↑" if self.better == "higher" else "↓"


#: Every headline metric, in the order tables show them: the first is the ranking metric (rows best first by it).
METRICS: dict[str, Metric] = {
    "f_max": Metric("max over thresholds of the dataset F curve", "higher", ("dbd", "sod"), since_first_schema=True),
    "f_mean": Metric(
        "mean over thresholds 0..255 of the dataset F curve", "higher", ("dbd", "sod"), since_first_schema=True
    ),
    "f_adaptive": Metric(
        "F at the per-image adaptive threshold (factor x mean score, at most 1)",
        "higher",
        ("dbd", "sod", "sg", "dd", "evp"),
        since_first_schema=True,
    ),
    "f_fixed": Metric(
        "F at the protocol's fixed threshold (0.5)", "higher", ("dbd", "ddffnet"), since_first_schema=True
    ),
    "mae": Metric(
        "mean absolute error of the continuous map against the binary GT",
        "lower",
        ("dbd", "sod", "sg", "ddffnet", "dd", "evp"),
        since_first_schema=True,
    ),
    "f_score1": Metric(
        "D-DFFNet's F_score1: per image, max of F at the fixed threshold and F with every pixel called positive",
        "higher",
        ("ddffnet",),
        summary_as_extra=False,
    ),
    "iou": Metric(
        "D-DFFNet's IoU: TP / (TP + FP + FN) at the fixed threshold, counts pooled over every pixel of the dataset",
        "higher",
        ("ddffnet",),
    ),
}

#: The same metrics in the order a result file lists them (fixed by the first schema, so results stay comparable
#: byte for byte): ``mae`` first, the metrics added later last.
RESULT_ORDER = ("mae", "f_max", "f_mean", "f_adaptive", "f_fixed", "f_score1", "iou")
#: The metrics every result carries (:attr:`Metric.since_first_schema`), in result order.
CORE_METRICS = tuple(k for k in RESULT_ORDER if METRICS[k].since_first_schema)
#: The metric that orders rows (best first) in tables and figures.
RANKING_METRIC = next(iter(METRICS))

#: Every per-image column that is not a headline metric (``per_image.csv``, docs/results.md), with its better
#: direction: a metric's precision and recall, and its true positives, are higher is better, its false positives
#: and negatives lower; the image's name, the GT's own counts and how many pixels a map calls positive have none
#: (None). ``predict_ms`` is the report's ``predict_s`` in milliseconds. A column needs a row here to be ranked.
COLUMN_DIRECTIONS: dict[str, Better | None] = {
    "stem": None,
    "f_adaptive_precision": "higher",
    "f_adaptive_recall": "higher",
    "f_adaptive_tp": "higher",
    "f_adaptive_predicted": None,
    "f_fixed_precision": "higher",
    "f_fixed_recall": "higher",
    "f_fixed_tp": "higher",
    "f_fixed_predicted": None,
    "iou_tp": "higher",
    "iou_fp": "lower",
    "iou_fn": "lower",
    "gt_positive_fraction": None,
    "n_positive": None,
    "n_pixels": None,
    "predict_s": "lower",
    "predict_ms": "lower",
}


def defined_by(protocol: str) -> tuple[str, ...]:
    """The metrics the source of a built-in protocol defines, in result order (its ``source_metrics``)."""
    return tuple(k for k in RESULT_ORDER if protocol in METRICS[k].defined_by)


def direction(column: str) -> Better | None:
    """``higher``, ``lower`` or None (no better direction) for a headline metric or a per-image column.

    Raises :class:`~dbdbench.errors.DbdbenchError` for a column the table does not list: a direction is never
    guessed (a count of false positives ranked as higher is better would pick the worst image as the best).
    """
    if column in METRICS:
        return METRICS[column].better
    if column in COLUMN_DIRECTIONS:
        return COLUMN_DIRECTIONS[column]
    known = ", ".join(k for k in (*RESULT_ORDER, *COLUMN_DIRECTIONS) if k != "stem")
    raise DbdbenchError(f"no per-image column {column!r} (columns: {known})")
