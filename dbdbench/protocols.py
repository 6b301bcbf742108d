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
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import DbdbenchError

#: Every headline metric, in the order results list them.
METRIC_KEYS = ("mae", "f_max", "f_mean", "f_adaptive", "f_fixed", "f_score1")
#: dbdbench's own protocol defines these; ``f_score1`` is D-DFFNet's, an extra elsewhere.
_OWN_METRICS = ("mae", "f_max", "f_mean", "f_adaptive", "f_fixed")

RESIZE_RULES = ("bilinear", "bicubic", "nearest", "none")
_FIXED_SIZE = re.compile(r"^(\d+)x(\d+)$")

#: Options a user may override; the rest describe the preset's source and are kept as they are.
_INFO_FIELDS = ("name", "description", "source", "source_metrics", "expects")


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
    aggregation: str = "image"
    #: beta^2 of the F-measure.
    beta2: float = 0.3
    #: The evaluation code this preset reproduces (repository and file), or "" for dbdbench's own.
    source: str = ""
    #: The metrics that code computes; every other metric is an extra under this protocol.
    source_metrics: tuple[str, ...] = _OWN_METRICS
    #: The data the source scores (split, sizes), in words.
    expects: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["source_metrics"] = list(self.source_metrics)
        d["extra_metrics"] = self.extra_metrics()
        return d

    def extra_metrics(self) -> list[str]:
        """Metrics dbdbench reports under this protocol that its source does not define."""
        return [k for k in METRIC_KEYS if k not in self.source_metrics]

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
        out.validate()
        return out

    def validate(self) -> None:
        choices = {
            "positive": ("focus", "blur"),
            "quantisation": ("round", "floor", "compare"),
            "aggregation": ("image", "curve"),
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


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            name="dbd",
            description="dbdbench default: in-focus positive, GT > 127, no min-max, adaptive 2x mean, "
            "maps resized bilinearly to GT, F averaged per image.",
        ),
        Protocol(
            name="sod",
            description="PySODMetrics v1.6 Fmeasure/MAE exactly: GT > 128, per-image min-max, floor quantisation, "
            "adaptive 2x mean, F averaged per image.",
            gt_threshold=128.0,
            minmax=True,
            quantisation="floor",
            source="lartpang/PySODMetrics 1.6 py_sod_metrics/sod_metrics.py (Fmeasure, MAE)",
            source_metrics=("mae", "f_max", "f_mean", "f_adaptive"),
            expects="maps at GT resolution (PySODMetrics refuses other sizes)",
        ),
        Protocol(
            name="sg",
            description="SG (Zhao et al., CVPR 2021) eval.py: map resized to 320x320 by Pillow in 8 bits, read as "
            "v/255; GT > 0.1 (25.5 of 255) at its own size; adaptive F at s >= min(1.5x mean, 1) and MAE, "
            "both averaged per image.",
            gt_threshold=25.5,
            adaptive_factor=1.5,
            resize="320x320",
            source="shangcai1/SG eval.py (eval1)",
            source_metrics=("mae", "f_adaptive"),
            expects="the Zhao lab's 320x320 test sets (dut with dut500-gt, xu100); other GT sizes are refused",
        ),
        Protocol(
            name="ddffnet",
            description="D-DFFNet (ICME 2023) test1.py: blurred pixels positive, GT >= 0.5, F at map < 0.5 and MAE, "
            "averaged per image, no resizing; f_score1 is test.py's F_score1 (their own models' rows).",
            positive="blur",
            resize="none",
            source="yuxinjin-whu/D-DFFNet test1.py (eval1); test.py + utils.py (F_score1) for their own models",
            source_metrics=("mae", "f_fixed", "f_score1"),
            expects="maps at GT resolution: test1.py silently drops pairs of other sizes; dbdbench refuses them "
            "(--skip-bad drops them as test1.py does, listing each under 'skipped')",
        ),
        Protocol(
            name="hifst",
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
            source_metrics=(),
            expects="CUHK split 'all' (all 1000 images, --split all)",
        ),
    )
}

DEFAULT_PROTOCOL = "dbd"


def get_protocol(name: str, **overrides: Any) -> Protocol:
    if name not in PROTOCOLS:
        raise DbdbenchError(f"unknown protocol {name!r} (available: {', '.join(PROTOCOLS)})")
    return PROTOCOLS[name].with_overrides(**overrides)
