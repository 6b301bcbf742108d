"""The embedded default dataset ``synth``: layered dead-leaves scenes photographed by a thin lens.

Real DBD datasets cannot ship with the package, so dbdbench renders its own:
photo-textured occluding layers at random depths, each blurred by the disk PSF
of its circle of confusion and composited back to front. The ground truth is
exact (CoC of the visible layer <= :data:`FOCUS_COC_PX`), and per-pixel CoC and
depth maps come with every image. See ``docs/synth.md``.

Public API (rendering modules load on first use, so importing this is cheap)::

    render_scene(seed, index, size=320, kind="test") -> SynthScene
    stream(split="train", seed=0, size=320, start=0) -> Iterator[SynthScene]
    generate_split(out_dir, split="test", n=200, seed=0, size=320, workers=2) -> Path
"""

from __future__ import annotations

from typing import Any

from .adapter import SynthDataset
from .params import DEFAULT_SEED, FB_MIN_COC_PX, FOCUS_COC_PX, GENERATOR_VERSION, SPLITS

_LAZY = {
    "render_scene": ".render",
    "SynthScene": ".render",
    "stream": ".generate",
    "generate_split": ".generate",
    "ensure_split": ".generate",
    "verify_split": ".generate",
    "contact_sheet": ".command",
    "synth_command": ".command",
}

__all__ = [
    "SynthDataset",
    "GENERATOR_VERSION",
    "FOCUS_COC_PX",
    "FB_MIN_COC_PX",
    "DEFAULT_SEED",
    "SPLITS",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
