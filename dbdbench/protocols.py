"""Named scoring protocols: each paper's convention as an explicit, recorded preset.

DBD papers disagree on which class is positive, how GT is binarised, whether
maps are min-max normalised, how maps of another size are resized, how
F-measures are averaged, and more. Rather than pick one silently, dbdbench
names each convention as a frozen :class:`Protocol` whose every option is
written into every result, and lets the command line override any option
(``--protocol hifst --aggregation image``).

A protocol named after a paper reproduces that paper's *evaluation code*
(``source``), checked against an independent port of it in
``tests/test_protocols.py``. It also records which metrics that code defines
(``source_metrics``); dbdbench computes every metric under every protocol, and
the others are extras, footnoted wherever results are shown.

The presets here are registered through the ``register_protocols`` hook
(:mod:`dbdbench.builtin_protocols`), like any plugin's; :func:`get_protocol`
looks names up in the plugin registry, so a plugin's protocol is used exactly
like a built-in one.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import DbdbenchError
from .metric_table import RESULT_ORDER, defined_by

RESIZE_RULES = ("bilinear", "bicubic", "nearest", "none")
_FIXED_SIZE = re.compile(r"^(\d+)x(\d+)$")
#: What a protocol's name may be: a lower-case id ('+' is reserved for '<name>+custom').
PROTOCOL_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

#: Options a user may override; the rest describe the preset's source and are kept as they are.
_INFO_FIELDS = ("name", "description", "source", "source_metrics", "expects")
#: Options added after the first result schema, with their defaults. A result records them only when they
#: differ (an absent key means the default), so results of one preset made before and after they existed
#: have identical protocol records and stay in one leaderboard table.
LATER_OPTIONS: dict[str, Any] = {
    "gt_rule": "threshold",
    "adaptive_rule": "score",
    "mae_gt": "binary",
    "pool_images": 0,
    "gt_resize": "none",
}


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str
    #: Which class counts as positive for precision/recall/F: "focus" or "blur".
    positive: str = "focus"
    #: GT (0..255, after polarity is normalised to in-focus = white) is in focus where ``> gt_threshold``.
    gt_threshold: float = 127.0
    #: Per-image min-max normalisation of the map before scoring (PySODMetrics / MATLAB ``mat2gray``).
    minmax: bool = False
    #: How a [0, 1] score meets the thresholds t = 0..255 of the curves:
    #: "round" (level = round(255 s)), "floor" (level = floor(255 s), computed as PySODMetrics does:
    #: min-max on s = map / 255, then ``(255 s).astype(uint8)``), or "compare" (the unquantised 0..255 map
    #: is compared with each t, ``map >= t``, as MATLAB evaluation code does: min-max as ``mat2gray`` on
    #: the map's 0..255 values, inverted afterwards; equal to floor of the exact value).
    quantisation: str = "round"
    #: Adaptive threshold = min(adaptive_factor * mean(score), 1), per image.
    adaptive_factor: float = 2.0
    #: Threshold of ``f_fixed`` on the continuous score.
    fixed_threshold: float = 0.5
    #: How a map whose size differs from its GT is scored: "bilinear", "bicubic" or "nearest" (resized to
    #: the GT, pixel centres aligned, antialiased when shrinking: MATLAB ``imresize``), "none" (refused), or
    #: a fixed size "WxH" (the 8-bit map resized to W x H with Pillow's default filter, as Python evaluation
    #: scripts do; the GT is not resized and must be W x H).
    resize: str = "bilinear"
    #: "image": mean of per-image F values/curves (PySODMetrics). "curve": F of the mean precision and recall.
    #: "pixel": TP and predicted/GT-positive counts summed over every pixel of the dataset (or of each group of
    #: ``pool_images`` images), then one precision, recall and F (depth-distillation's eval.ipynb).
    aggregation: str = "image"
    #: beta^2 of the F-measure.
    beta2: float = 0.3
    #: The evaluation code this preset reproduces (repository and file), or "" for dbdbench's own.
    source: str = ""
    #: The metrics that code computes; every other metric is an extra under this protocol.
    source_metrics: tuple[str, ...] = defined_by("dbd")
    #: The data the source scores (split, sizes), in words.
    expects: str = ""
    #: How the GT becomes a mask: "threshold" (> ``gt_threshold``) or "adaptive" (the 8-bit in-focus GT g is in
    #: focus where g > min(adaptive_factor x mean(g), 255), per image, as depth-distillation's eval.ipynb does).
    gt_rule: str = "threshold"
    #: How ``f_adaptive`` thresholds: "score" (score >= min(factor x mean score, 1)) or "level" (the quantised 8-bit
    #: score q > min(factor x mean(q), 255), strictly, as eval.ipynb does on ``np.uint8(pred * 255)``).
    adaptive_rule: str = "score"
    #: What ``mae`` compares the score with: the "binary" GT mask, or the "soft" GT (its 0..255 values / 255).
    mae_gt: str = "binary"
    #: With aggregation "pixel": pool consecutive groups of this many images (in scoring order) and average the
    #: groups' values weighted by their size (Explicit-Visual-Prompt pools each test batch of 4); 0: one pool.
    pool_images: int = 0
    #: With a fixed-size ``resize`` (WxH): "none" (the GT must already be W x H) or "nearest" (the GT is resized
    #: to W x H with Pillow's NEAREST filter, as Explicit-Visual-Prompt's test loader does).
    gt_resize: str = "none"

    def as_dict(self) -> dict[str, Any]:
        """The record written into results: every option, except later options left at their default."""
        d = asdict(self)
        for key, default in LATER_OPTIONS.items():
            if d[key] == default:
                del d[key]
        d["source_metrics"] = list(self.source_metrics)
        d["extra_metrics"] = self.extra_metrics()
        return d

    def options(self) -> dict[str, Any]:
        """Every option, defaults included (what ``dbdbench list protocols`` shows)."""
        d = asdict(self)
        d["source_metrics"] = list(self.source_metrics)
        d["extra_metrics"] = self.extra_metrics()
        return d

    def extra_metrics(self) -> list[str]:
        """Metrics dbdbench reports under this protocol that its source does not define."""
        return [k for k in RESULT_ORDER if k not in self.source_metrics]

    def fixed_size(self) -> tuple[int, int] | None:
        """(H, W) of the fixed-size resize rule, or None."""
        m = _FIXED_SIZE.match(self.resize)
        return (int(m.group(2)), int(m.group(1))) if m else None

    def with_overrides(self, **overrides: Any) -> Protocol:
        """Apply command-line overrides; the result keeps the preset's name plus a '+custom' mark."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        known = {f.name for f in fields(self)} - set(_INFO_FIELDS)
        unknown = set(given) - known
        if unknown:
            raise DbdbenchError(f"unknown protocol option(s): {', '.join(sorted(unknown))}")
        changed = {k: v for k, v in given.items() if getattr(self, k) != v}
        if not changed:
            return self
        label = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
        out = replace(
            self, name=f"{self.name}+custom", description=f"{self.description} Overridden: {label}.", **changed
        )
        try:
            out.validate()
        except DbdbenchError as exc:
            raise DbdbenchError(f"protocol {self.name!r} with {label}: {exc}") from None
        return out

    def validate(self) -> None:
        if not isinstance(self.name, str) or not PROTOCOL_NAME.match(self.name.replace("+custom", "")):
            raise DbdbenchError(f"protocol name {self.name!r}: expected a lower-case id ([a-z0-9][a-z0-9_.-]*)")
        unknown = [k for k in self.source_metrics if k not in RESULT_ORDER]
        if unknown:
            raise DbdbenchError(
                f"protocol {self.name!r}: source_metrics {', '.join(map(repr, unknown))} are not metrics "
                f"(known: {', '.join(RESULT_ORDER)})"
            )
        choices = {
            "positive": ("focus", "blur"),
            "quantisation": ("round", "floor", "compare"),
            "aggregation": ("image", "curve", "pixel"),
            "gt_rule": ("threshold", "adaptive"),
            "adaptive_rule": ("score", "level"),
            "mae_gt": ("binary", "soft"),
            "gt_resize": ("none", "nearest"),
        }
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise DbdbenchError(
                    f"protocol option {key}={getattr(self, key)!r}: expected one of {', '.join(allowed)}"
                )
        if self.resize not in RESIZE_RULES:
            size = self.fixed_size()
            if size is None or min(size) < 1:
                raise DbdbenchError(
                    f"protocol option resize={self.resize!r}: expected one of {', '.join(RESIZE_RULES)} or a size WxH (e.g. 320x320)"
                )
        if not 0 <= self.fixed_threshold <= 1:
            raise DbdbenchError(f"protocol option fixed_threshold={self.fixed_threshold}: expected a value in [0, 1]")
        if self.beta2 <= 0 or self.adaptive_factor <= 0:
            raise DbdbenchError("protocol options beta2 and adaptive_factor must be positive")
        if not isinstance(self.pool_images, int) or isinstance(self.pool_images, bool) or self.pool_images < 0:
            raise DbdbenchError(f"protocol option pool_images={self.pool_images!r}: expected a whole number >= 0")
        if self.pool_images and self.aggregation != "pixel":
            raise DbdbenchError("protocol option pool_images needs aggregation=pixel (it groups the pooled counts)")
        if self.gt_resize != "none" and self.fixed_size() is None:
            raise DbdbenchError("protocol option gt_resize needs a fixed-size resize rule (resize=WxH)")


def _preset(name: str, description: str, **options: Any) -> Protocol:
    """A built-in preset; the metrics its source defines are the metric table's (:func:`defined_by`)."""
    return Protocol(name=name, description=description, source_metrics=defined_by(name), **options)


#: Depth-distillation's eval.ipynb: adaptive 1.5 x mean thresholds of the 8-bit GT and map, counts pooled over every
#: pixel, MAE against the soft GT. Explicit-Visual-Prompt's calc_fmeasure reuses it (at 320x320, pooled per batch).
DEPTH_DISTILLATION_RULE: dict[str, Any] = {
    "gt_rule": "adaptive",
    "adaptive_rule": "level",
    "adaptive_factor": 1.5,
    "quantisation": "floor",
    "aggregation": "pixel",
    "mae_gt": "soft",
}

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        _preset(
            "dbd",
            description="dbdbench default: in-focus positive, GT > 127, no min-max, adaptive 2x mean, "
            "maps resized bilinearly to GT, F averaged per image.",
        ),
        _preset(
            "sod",
            description="PySODMetrics v1.6 Fmeasure/MAE exactly: GT > 128, per-image min-max, floor quantisation, "
            "adaptive 2x mean, F averaged per image.",
            gt_threshold=128.0,
            minmax=True,
            quantisation="floor",
            source="lartpang/PySODMetrics 1.6 py_sod_metrics/sod_metrics.py (Fmeasure, MAE)",
            expects="maps at GT resolution (PySODMetrics refuses other sizes)",
        ),
        _preset(
            "sg",
            description="SG (Zhao et al., CVPR 2021) eval.py: map resized to 320x320 by Pillow in 8 bits, read as "
            "v/255; GT > 0.1 (25.5 of 255) at its own size; adaptive F at s >= min(1.5x mean, 1) and MAE, "
            "both averaged per image.",
            gt_threshold=25.5,
            adaptive_factor=1.5,
            resize="320x320",
            source="shangcai1/SG eval.py (eval1)",
            expects="the Zhao lab's 320x320 test sets (dut with dut500-gt, xu100); other GT sizes are refused",
        ),
        _preset(
            "ddffnet",
            description="D-DFFNet (ICME 2023) test1.py: blurred pixels positive, GT >= 0.5, F at map < 0.5 and MAE, "
            "averaged per image, no resizing; f_score1 is test.py's F_score1 (their own models' rows).",
            positive="blur",
            resize="none",
            source="yuxinjin-whu/D-DFFNet test1.py (eval1) and test_iou1.py (iou); test.py + utils.py (F_score1) "
            "for their own models",
            expects="maps at GT resolution: test1.py silently drops pairs of other sizes; dbdbench refuses them "
            "(--skip-bad drops them as test1.py does, listing each under 'skipped')",
        ),
        _preset(
            "hifst",
            description="HiFST (CVPR 2017) PRDataComputation.m: blurred positive = any nonzero blur-white GT pixel, "
            "map mat2gray'ed and compared unquantised with t = 0..255 (>=), precision and recall averaged over "
            "images; the source computes no F (F here is of the mean P/R curve).",
            positive="blur",
            gt_threshold=254.999,
            minmax=True,
            quantisation="compare",
            resize="bicubic",
            aggregation="curve",
            source="isalirezag/HiFST Evaluation/PRDataComputation.m",
            expects="CUHK split 'all' (all 1000 images, --split all)",
        ),
        _preset(
            "dd",
            description="Depth distillation (Cun & Pun, ECCV 2020) eval.ipynb: at GT size, the 8-bit map in focus "
            "where v > min(1.5 mean(v), 255) and the 8-bit GT where g > min(1.5 mean(g), 255); TP, FP and FN pooled "
            "over every pixel of the dataset, one F of the pooled precision and recall; MAE against the soft GT "
            "(g / 255), averaged per image.",
            **DEPTH_DISTILLATION_RULE,
            source="vinthony/depth-distillation eval.ipynb (val) with datasets.py (DefocusDataset)",
            expects="maps at GT resolution or smaller (the notebook upsamples its 320x320 output bilinearly to the "
            "GT); DUT's 500 test images, or its CUHK test list",
        ),
        _preset(
            "evp",
            description="Explicit Visual Prompting (Liu et al., CVPR 2023) test.py with eval_type fmeasure "
            "(utils.calc_fmeasure): depth-distillation's rule at 320x320, the GT resized to 320x320 with NEAREST; "
            "TP, FP and FN pooled over each test batch of 4 images, F averaged over the batches (weighted by "
            "their size); MAE against the soft GT, averaged per image.",
            **DEPTH_DISTILLATION_RULE,
            pool_images=4,
            resize="320x320",
            gt_resize="nearest",
            source="NiFangBaAGe/Explicit-Visual-Prompt test.py + utils.py (calc_fmeasure), "
            "configs/test/test_defocus.yaml (batch_size 4), datasets/wrappers.py (ValDataset)",
            expects="the network's 320x320 maps of DUT's 500 test images (dut500-gt), in file-name order: the "
            "batches of 4 follow it; maps of another size are resized to 320x320 by Pillow (bicubic), which EVP "
            "never does",
        ),
    )
}

DEFAULT_PROTOCOL = "dbd"


def get_protocol(name: str, **overrides: Any) -> Protocol:
    """A registered protocol (built in or from a plugin), with command-line ``overrides`` applied."""
    from .plugins import get_registry

    return get_registry().protocol(name).with_overrides(**overrides)


def available_protocols() -> dict[str, Protocol]:
    """Every registered protocol by name: the built-in presets first, then the plugins', in load order."""
    from .plugins import get_registry

    return {name: protocol for name, (protocol, _) in get_registry().protocols.items()}
