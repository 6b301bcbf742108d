"""Render one synthetic photo with its ground truth: layout -> focus and aperture -> blur -> sensor.

Every image has its own random generator, seeded from ``SeedSequence([seed,
split code, index])``, so image ``i`` is the same whether it is rendered alone,
in a stream or in a process pool, and splits never share an image.

The ground truth follows directly from the camera: the visible layer of a pixel
is the front-most layer whose *sharp* alpha exceeds 0.5; the pixel's CoC and
depth are that layer's, and it is in focus when the CoC is at most
:data:`~.params.FOCUS_COC_PX`. The GT is computed from the float32 CoC map that
is saved, so ``gt == (coc <= FOCUS_COC_PX)`` holds exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .camera import composite, sensor
from .params import FB_MIN_COC_PX, FOCUS_COC_PX, REFERENCE_SIZE, SPLIT_CODES
from .scene import Layer, Layout, build_layout

#: Largest CoC (pixels at the reference size 320) the lens produces; sets the canvas padding.
MAX_COC_REF = 32.0
#: Blurred layers of labelled splits get at least this largest CoC (pixels, any size).
MIN_COC_RANGE = 4.0


def max_coc_px(size: int) -> float:
    """Largest CoC at ``size``: scales with the image, but never below 8 px so small images still blur."""
    return max(MAX_COC_REF * size / REFERENCE_SIZE, 2 * MIN_COC_RANGE)


@dataclass
class SynthScene:
    """One rendered image. ``gt`` is True where in focus; ``coc`` in pixels, ``depth`` in metres."""

    image: np.ndarray  # (H, W, 3) uint8 sRGB
    gt: np.ndarray  # (H, W) bool
    coc: np.ndarray  # (H, W) float32
    depth: np.ndarray  # (H, W) float32
    info: dict = field(default_factory=dict)


def image_rng(seed: int, index: int, kind: str) -> np.random.Generator:
    if kind not in SPLIT_CODES:
        raise ValueError(f"unknown synth split {kind!r} (splits: {', '.join(SPLIT_CODES)})")
    return np.random.default_rng(np.random.SeedSequence([int(seed), SPLIT_CODES[kind], int(index)]))


def _choose_camera(
    rng: np.random.Generator, layout: Layout, kind: str, scale: float, fb_floor: float = FB_MIN_COC_PX
) -> tuple[float, float, str]:
    """Pick the focus inverse depth ``d_f`` (1/m) and aperture ``K`` (pixel-metres) for the split."""
    d_layers = [1.0 / layer.depth for layer in layout.layers]
    d_obj = [1.0 / layer.depth for layer in layout.layers if layer.label == "object"]
    plane = layout.plane
    d_plane = (plane.q_far / plane.height, plane.q_max / plane.height) if plane is not None else None
    d_all = d_layers + (list(d_plane) if d_plane else [])
    d_min, d_max = min(d_all), max(d_all)
    max_coc = max_coc_px(layout.size)

    if kind == "fb":
        # Focus outside the scene's depth range, so that every layer is blurred by >= fb_floor.
        if d_min > 0.05 and rng.random() < 0.4:
            d_f, gap = d_min * rng.uniform(0.1, 0.6), None
            gap = d_min - d_f
            span = d_max - d_f
        else:
            d_f = d_max * rng.uniform(1.3, 3.0)
            gap = d_f - d_max
            span = d_f - d_min
        c_min = fb_floor * rng.uniform(1.02, 1.0 + max(0.1, 1.5 * scale))
        k = c_min / gap
        if k * span > max_coc:  # keep within the lens's range, but never below the fb floor
            k = max(max_coc / span, fb_floor * 1.001 / gap)
        return d_f, k, "outside"

    r = rng.random()
    if kind == "fc" or r < 0.1:
        d_f, mode = rng.uniform(d_min, d_max), "between"
    elif r < 0.55 and d_obj:
        d_f, mode = d_obj[int(rng.integers(len(d_obj)))], "object"
    elif r < 0.65 and d_obj:
        d_f, mode = max(d_obj), "near"
    else:
        mode = "background"
        if d_plane is not None and rng.random() < 0.75:
            d_f = rng.uniform(*d_plane)
        else:
            d_f = d_layers[0]
    spread = max(abs(d - d_f) for d in d_all) + 1e-9
    if kind == "fc":
        # All-clear: the largest CoC stays below the in-focus threshold.
        cmax = rng.uniform(0.0, 1.0) * FOCUS_COC_PX * 0.95
        return d_f, cmax / spread, "all-clear"
    cmax = math.exp(rng.uniform(math.log(MIN_COC_RANGE), math.log(max_coc)))
    return d_f, cmax / spread, mode


def _plane_bands(layout: Layout, d_f: float, k: float) -> list[Layer]:
    """Cut the receding plane into fronto-parallel bands, fine enough that CoC steps stay ~1 px."""
    plane = layout.plane
    assert plane is not None
    d0, d1 = plane.q_far / plane.height, plane.q_max / plane.height
    n = int(np.clip(math.ceil(k * (d1 - d0) / 1.5), 2, 12))
    edges = np.linspace(plane.q_far, plane.q_max, n + 1)
    bands = []
    for i in range(n):
        alpha = np.clip(plane.q - edges[i] + 0.5, 0.0, 1.0).astype(np.float32)
        d_mid = 0.5 * (edges[i] + edges[i + 1]) / plane.height
        bands.append(Layer(float(1.0 / d_mid), plane.texture * alpha[..., None], alpha, "plane"))
    return bands


def render_scene(
    seed: int, index: int, size: int = 320, kind: str = "test", fb_floor: float = FB_MIN_COC_PX
) -> SynthScene:
    """Render image ``index`` of split ``kind`` for ``seed``: the same arguments give the same arrays.

    ``fb_floor`` (``fb`` only) is the smallest CoC of any layer; the ``fb`` split always uses
    :data:`FB_MIN_COC_PX`. Other floors render the same scenes more or less blurred, for experiments with
    selfgen's full-blurred pool (``benchmarks/make_blurred_pool.py``)."""
    rng = image_rng(seed, index, kind)
    size = int(size)
    scale = size / REFERENCE_SIZE
    max_coc = max_coc_px(size)
    pad = math.ceil(max_coc / 2.0) + 2
    layout = build_layout(rng, size, pad)
    crop = (slice(pad, pad + size), slice(pad, pad + size))
    for _attempt in range(4):
        d_f, k, mode = _choose_camera(rng, layout, kind, scale, fb_floor)
        layers = list(layout.layers)
        if layout.plane is not None:
            layers += _plane_bands(layout, d_f, k)
        layers.sort(key=lambda layer: -layer.depth)  # back to front (stable: sky/far stays behind the plane)
        cocs = [float(min(k * abs(1.0 / layer.depth - d_f), max(max_coc, FB_MIN_COC_PX * 1.5))) for layer in layers]
        visible = np.full((size, size), -1, dtype=np.int32)
        for i in range(len(layers) - 1, -1, -1):  # front to back
            hit = (visible < 0) & (layers[i].alpha[crop] > 0.5)
            visible[hit] = i
        visible[visible < 0] = 0
        coc = np.asarray(cocs, dtype=np.float32)[visible]
        gt = coc <= np.float32(FOCUS_COC_PX)
        # Labelled splits: a photo is focused on *something* visible; redraw the camera if not.
        if kind in ("fc", "fb") or gt.mean() >= 0.04:
            break
    depth = np.asarray([layer.depth for layer in layers], dtype=np.float32)[visible]

    linear = composite([(layer.colour, layer.alpha, c) for layer, c in zip(layers, cocs)])
    image = sensor(rng, linear[crop], noise=True, jpeg=True)
    info = {
        "focus_m": float(1.0 / d_f) if d_f > 0 else float("inf"),
        "aperture_k": float(k),
        "focus_mode": mode,
        "background": layout.info.get("background"),
        "layers": len(layers),
        "in_focus_fraction": float(gt.mean()),
        "coc_max": float(coc.max()),
    }
    return SynthScene(image=image, gt=gt, coc=coc, depth=depth, info=info)
