"""Named scoring protocols: each paper's convention as an explicit, recorded preset.

DBD papers disagree on which class is positive, how GT is binarised, whether
maps are min-max normalised, how F-measures are averaged, and more. Rather than
pick one silently, dbdbench names each convention as a frozen :class:`Protocol`
whose every option is written into every result, and lets the command line
override any option (``--protocol hifst --aggregation image``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import DbdbenchError


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str
    #: Which class counts as positive for precision/recall/F: "focus" or "blur".
    positive: str = "focus"
    #: GT (0..255, after polarity is normalised to in-focus = white) is positive where ``> gt_threshold``.
    gt_threshold: float = 127.0
    #: Per-image min-max normalisation of the map before scoring (PySODMetrics / MATLAB ``mapminmax``).
    minmax: bool = False
    #: How a [0, 1] score becomes one of 256 levels for the curves: "round" or "floor" (PySODMetrics).
    quantisation: str = "round"
    #: Adaptive threshold = min(adaptive_factor * mean(score), 1), per image.
    adaptive_factor: float = 2.0
    #: Threshold of ``f_fixed`` on the continuous score.
    fixed_threshold: float = 0.5
    #: How maps of another size reach GT resolution: "bilinear", "nearest" or "none" (refuse).
    resize: str = "bilinear"
    #: "image": mean of per-image F values/curves (PySODMetrics). "curve": F of the mean precision and recall.
    aggregation: str = "image"
    #: beta^2 of the F-measure.
    beta2: float = 0.3

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_overrides(self, **overrides: Any) -> "Protocol":
        """Apply command-line overrides; the result keeps the preset's name plus a '+custom' mark."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        known = {f.name for f in fields(self)} - {"name", "description"}
        unknown = set(given) - known
        if unknown:
            raise DbdbenchError(f"unknown protocol option(s): {', '.join(sorted(unknown))}")
        changed = {k: v for k, v in given.items() if getattr(self, k) != v}
        if not changed:
            return self
        label = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
        out = replace(self, name=f"{self.name}+custom", description=f"{self.description} Overridden: {label}.", **changed)
        out.validate()
        return out

    def validate(self) -> None:
        choices = {
            "positive": ("focus", "blur"),
            "quantisation": ("round", "floor"),
            "resize": ("bilinear", "nearest", "none"),
            "aggregation": ("image", "curve"),
        }
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise DbdbenchError(f"protocol option {key}={getattr(self, key)!r}: expected one of {', '.join(allowed)}")
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
        ),
        Protocol(
            name="sg",
            description="The SG paper's evaluation code: adaptive threshold 1.5x mean, GT > 0.1 (25.5 of 255).",
            gt_threshold=25.5,
            adaptive_factor=1.5,
        ),
        Protocol(
            name="ddffnet",
            description="D-DFFNet (ICME 2023) re-evaluation: blurred pixels positive, F at fixed threshold 0.5 "
            "averaged per image, MAE on the continuous map, GT resolution.",
            positive="blur",
        ),
        Protocol(
            name="hifst",
            description="HiFST (CVPR 2017) PR evaluation: blurred positive, per-image min-max, per-image P/R "
            "averaged over images, F from the mean P/R curve.",
            positive="blur",
            minmax=True,
            aggregation="curve",
        ),
    )
}

DEFAULT_PROTOCOL = "dbd"


def get_protocol(name: str, **overrides: Any) -> Protocol:
    if name not in PROTOCOLS:
        raise DbdbenchError(f"unknown protocol {name!r} (available: {', '.join(PROTOCOLS)})")
    return PROTOCOLS[name].with_overrides(**overrides)
