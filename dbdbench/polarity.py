"""The polarity guard: say when maps or masks look the wrong way round; never change a number.

Why: read the wrong way, a map or a mask still gives plausible-looking scores (``f_max`` stays high when one
class covers most of the image), so a polarity mistake can go unnoticed into a table. Two advisory checks,
whose findings go to the result's ``warnings`` and, from the CLI, to stderr (one line each, naming the flag):

* **maps against the ground truth** (``score``, ``run``): per image, from the 8-bit score histogram the
  metrics already build, the MAE of the score against the positive mask and the ranking AUC (how often a
  positive pixel scores above a negative one; ties count half). Inverting the maps turns them into exactly
  ``1 - MAE`` and ``1 - AUC``. The maps "look inverted" when, averaged over the images, the inverted maps
  would be better on *both*: a lower MAE (MAE > 0.5) and a ranking better by at least :data:`MARGIN`
  (AUC <= 0.40). Needing both keeps a biased but correctly oriented map (mostly white on mostly blurred
  photos: MAE above 0.5, AUC above 0.5) and a map with no signal (AUC near 0.5) out of it. Every committed
  result has MAE <= 0.40, and the shipped methods' AUC on the synthetic and shared data is >= 0.69 (the
  weakest, ``dct`` on synth), while inverted their maps have MAE >= 0.60 and AUC <= 0.31
  (tests/test_polarity.py checks both ways).
* **photos against masks whose polarity was declared** (the ``folder`` dataset, or ``--gt-polarity``
  overriding an adapter's convention): defocus removes detail, so the region the masks call in focus should
  be the sharper one. On up to :data:`GT_CHECK_IMAGES` photos (evenly spaced), the log ratio of the mean
  absolute Laplacian inside the declared in-focus region to that outside; the masks "look inverted" when
  at least three quarters of the photos measured are clearly the other way (ratio below
  ``-GT_LOG_MARGIN``). Correct masks of the synthetic split and of every shared real image pass (the
  in-focus region is sharper in 95 % and 100 % of them); a photo whose mask has one class only, or whose
  size differs from its mask, is not measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .datasets.base import Dataset, Sample
    from .metrics.pair import PreparedPair

#: How much better the inverted maps must rank (AUC) before the maps are called inverted; their MAE must be lower.
MARGIN = 0.2
#: Photos the mask check reads at most (evenly spaced over the listing): about 0.3 s at 640 x 427.
GT_CHECK_IMAGES = 16
#: A photo counts against the declared polarity when its in-focus region is this much blurrier (log ratio).
GT_LOG_MARGIN = 0.2
#: The share of measured photos that must count against it.
GT_SHARE = 0.75


@dataclass(frozen=True)
class MapCheck:
    """The maps-against-GT statistics over the scored images (``auc`` None when no image has both classes)."""

    images: int
    mae: float
    auc: float | None

    @property
    def looks_inverted(self) -> bool:
        if self.auc is None:
            return False
        return (1.0 - self.mae) < self.mae and ((1.0 - self.auc) - self.auc) >= MARGIN


class MapPolarityCheck:
    """Fed every prepared pair that is scored (from its histogram only: no extra pass over the pixels)."""

    def __init__(self) -> None:
        self.mae: list[float] = []
        self.auc: list[float] = []

    def step(self, pair: PreparedPair) -> None:
        neg, pos = (h.astype(np.float64) for h in pair.hist)
        levels = np.arange(256, dtype=np.float64) / 255.0
        n_neg, n_pos = float(neg.sum()), float(pos.sum())
        self.mae.append(float((neg * levels).sum() + (pos * (1.0 - levels)).sum()) / max(n_neg + n_pos, 1.0))
        if n_neg > 0 and n_pos > 0:
            below = np.cumsum(neg) - neg  # negatives strictly below each level
            self.auc.append(float((pos * (below + 0.5 * neg)).sum()) / (n_pos * n_neg))

    def result(self) -> MapCheck | None:
        if not self.mae:
            return None
        auc = float(np.mean(self.auc)) if self.auc else None
        return MapCheck(images=len(self.mae), mae=float(np.mean(self.mae)), auc=auc)


@dataclass(frozen=True)
class GtCheck:
    """How the declared masks fare against the photos: photos measured, how many look the other way."""

    measured: int
    against: int
    median_log_ratio: float

    @property
    def looks_inverted(self) -> bool:
        return self.measured > 0 and self.against >= GT_SHARE * self.measured


def sharpness_log_ratio(image: np.ndarray, focus: np.ndarray) -> float | None:
    """log(mean |Laplacian| inside ``focus`` / outside) of an RGB or gray photo; None when not measurable."""
    from scipy import ndimage

    gray = image.astype(np.float32)
    if gray.ndim == 3:
        gray = gray.mean(axis=2)
    if gray.shape != focus.shape or focus.all() or not focus.any():
        return None
    lap = np.abs(ndimage.laplace(ndimage.gaussian_filter(gray, 0.7)))  # light smoothing: JPEG noise is not detail
    return float(np.log((lap[focus].mean() + 1e-3) / (lap[~focus].mean() + 1e-3)))


def check_declared_gt(dataset: Dataset, samples: list[Sample], gt_threshold: float = 127.0) -> GtCheck | None:
    """The photo check, for a dataset whose GT polarity the user declared (None otherwise, or with no photos).

    Unreadable files are left to the scoring that follows (which reports them): here they are not measured.
    """
    from .errors import DbdbenchError
    from .io import read_gray, read_rgb
    from .metrics.pair import focus_gt

    if not getattr(dataset, "gt_polarity_declared", False):
        return None
    with_photo = [s for s in samples if s.image is not None]
    if not with_photo:
        return None
    picks = np.unique(np.linspace(0, len(with_photo) - 1, min(GT_CHECK_IMAGES, len(with_photo))).round().astype(int))
    ratios = []
    for i in picks:
        sample = with_photo[int(i)]
        try:
            focus = focus_gt(read_gray(sample.gt), dataset.gt_polarity, gt_threshold)
            ratio = sharpness_log_ratio(read_rgb(sample.image), focus)  # type: ignore[arg-type]
        except DbdbenchError:
            continue
        if ratio is not None:
            ratios.append(ratio)
    if not ratios:
        return None
    against = sum(r < -GT_LOG_MARGIN for r in ratios)
    return GtCheck(measured=len(ratios), against=int(against), median_log_ratio=float(np.median(ratios)))


def _other(polarity: str) -> str:
    return "blur" if polarity == "focus" else "focus"


def _declared(dataset: Dataset) -> str:
    """``--gt-polarity blur`` plus, for an adapter, the convention of its release."""
    release = type(dataset).gt_polarity
    text = f"--gt-polarity {dataset.gt_polarity}"
    if dataset.name != "folder" and release != dataset.gt_polarity:
        text += f"; {dataset.name}'s release marks {_white(release)} pixels white"
    return text


def _white(polarity: str) -> str:
    return "in-focus" if polarity == "focus" else "blurred"


def polarity_warnings(
    *,
    dataset: Dataset,
    maps: MapCheck | None,
    gt: GtCheck | None,
    source: str,
    map_polarity: str = "focus",
    method_id: str | None = None,
) -> list[dict[str, Any]]:
    """The result's ``warnings`` from the two checks: each a record with ``check``, a one-line ``message`` that
    names the flag to change, and the statistics behind it. ``source`` is ``score`` or ``run``."""
    out: list[dict[str, Any]] = []
    declared = bool(getattr(dataset, "gt_polarity_declared", False))
    gt_inverted = gt is not None and gt.looks_inverted
    if gt is not None and gt_inverted:
        out.append(
            {
                "check": "gt_polarity",
                "message": (
                    f"polarity: the masks look inverted against the photos: in {gt.against} of {gt.measured} photos "
                    f"checked, the pixels read as in focus ({_declared(dataset)}) are the blurrier ones; if the masks "
                    f"mark {_white(_other(dataset.gt_polarity))} pixels white, use --gt-polarity "
                    f"{_other(dataset.gt_polarity)} (the scores are as declared)"
                ),
                "photos_measured": gt.measured,
                "photos_against": gt.against,
                "median_log_sharpness_ratio": round(gt.median_log_ratio, 4),
            }
        )
    if maps is not None and maps.looks_inverted:
        assert maps.auc is not None
        finding = (
            f"polarity: the maps look inverted against the ground truth: MAE {maps.mae:.3f} as scored, "
            f"{1 - maps.mae:.3f} inverted; ranking AUC {maps.auc:.2f}, {1 - maps.auc:.2f} inverted"
        )
        if gt_inverted:
            advice = "the masks look inverted too (see the warning above): check --gt-polarity first"
        elif source == "run":
            if declared:
                advice = f"the method's maps are white where in focus, so check {_declared(dataset)}"
            else:
                advice = (
                    f"{dataset.name}'s masks are read as its release marks them, so method {method_id!r} may "
                    "return blur maps (predict must return 1 = in focus)"
                )
        elif declared:
            advice = (
                f"if the maps are white where blurred, pass --map-polarity {_other(map_polarity)}; "
                f"if the masks are the wrong way round, change {_declared(dataset)}"
            )
        else:
            where = "blurred" if map_polarity == "focus" else "in focus"
            advice = f"if the maps are white where {where}, score them with --map-polarity {_other(map_polarity)}"
        out.append(
            {
                "check": "map_polarity",
                "message": f"{finding}; {advice} (the scores are as given)",
                "images": maps.images,
                "mae": round(maps.mae, 6),
                "auc": round(maps.auc, 6),
            }
        )
    return out
