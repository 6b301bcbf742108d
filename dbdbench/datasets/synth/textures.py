"""Texture sources: crops of real photographs bundled in installed wheels, plus procedural fills.

Real DBD is hard because of what the scene looks like *before* blur: natural
photo texture (with its own structure and 1/f spectrum), nearly textureless
areas that look the same sharp or blurred, and fine repetitive patterns. Shapes
are therefore filled with crops of real photos (the images that ship inside the
scikit-image wheel, read from site-packages; nothing is fetched through pooch or
the network), under random scale, rotation and colour jitter; some fills are
flat gradients (sky, painted walls) and some are fine gratings (fabric, grilles).

All textures are returned in *linear* light (decoded with gamma 2.2, the usual sRGB approximation), float32 in [0, 1],
because blur is a linear operation on radiance, not on gamma-encoded values.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

#: Photos bundled in the scikit-image wheel (checked to exist in ``skimage/data``).
#: Excluded: motion-blurred (clock_motion), synthetic (color, phantom, chessboard),
#: mostly black (hubble_deep_field, retina) and tiny or binary images.
PHOTO_FILES = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "rocket.jpg",
    "ihc.png",
    "brick.png",
    "camera.png",
    "grass.png",
    "gravel.png",
    "moon.png",
    "coins.png",
    "page.png",
    "text.png",
)

#: Downscale factors of each photo's prefiltered pyramid: crops are only ever minified,
#: never magnified much, so an "in focus" texture is as sharp as the photo allows.
PYRAMID = (1.0, 0.7, 0.5, 0.35)


#: Relative frequency of each photo as a texture source (natural colour photos first).
PHOTO_WEIGHTS = {
    "astronaut.png": 1.0,
    "chelsea.png": 1.0,
    "coffee.png": 1.0,
    "motorcycle_left.png": 1.2,
    "motorcycle_right.png": 1.2,
    "rocket.jpg": 0.5,
    "ihc.png": 0.6,
    "brick.png": 0.7,
    "camera.png": 0.6,
    "grass.png": 0.9,
    "gravel.png": 0.9,
    "moon.png": 0.5,
    "coins.png": 0.4,
    "page.png": 0.25,
    "text.png": 0.25,
}

#: Reflect-padding around every pyramid level, so rotated crops never leave the photo.
_PAD = 360


@dataclass(frozen=True)
class Source:
    name: str
    levels: tuple[Image.Image, ...]  # sRGB 8-bit, reflect-padded by _PAD, one per PYRAMID factor
    sizes: tuple[tuple[int, int], ...]  # unpadded (h, w) per level
    cdfs: tuple[np.ndarray, ...]  # per level: cumulative probability over pixels of being a crop centre
    gray: bool


def skimage_data_dir() -> str:
    """The folder of photos inside the installed scikit-image package (no import of skimage.data)."""
    import importlib.util

    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:  # pragma: no cover - skimage is a hard dependency
        raise RuntimeError("scikit-image is not installed; the synth dataset needs its bundled photos")
    return os.path.join(os.path.dirname(spec.origin), "data")


#: sRGB (approximated by gamma 2.2) 8-bit code -> linear float32.
_LUT = np.power(np.arange(256, dtype=np.float64) / 255.0, 2.2).astype(np.float32)


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.power(np.clip(x, 0.0, 1.0), 2.2, dtype=np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    return np.power(np.clip(x, 0.0, 1.0), 1.0 / 2.2, dtype=np.float32)


def _sharpness_cdf(rgb8: np.ndarray) -> np.ndarray:
    """Prefer crop centres in detailed areas: photos carry their own defocus (chelsea's background)."""
    g = rgb8.mean(axis=2, dtype=np.float32) / 255.0
    lap = np.abs(ndimage.laplace(g))
    energy = ndimage.uniform_filter(lap, size=31)
    w = np.clip(energy - np.quantile(energy, 0.35), 0, None)
    if w.sum() <= 0:
        w = np.ones_like(w)
    cdf = np.cumsum(w.ravel().astype(np.float64))
    return cdf / cdf[-1]


@functools.cache
def load_source(index: int) -> Source:
    """Decode, prefilter and pad one bundled photo, once per process (a tenth of a second)."""
    name = PHOTO_FILES[index]
    with Image.open(os.path.join(skimage_data_dir(), name)) as im:
        gray = im.mode in ("L", "I", "I;16")
        full = im.convert("RGB")
        full.load()
    levels, sizes, cdfs = [], [], []
    for f in PYRAMID:
        if f == 1.0:
            lv = full
        else:  # Lanczos resampling = anti-aliased decimation
            lv = full.resize((round(full.width * f), round(full.height * f)), Image.Resampling.LANCZOS)
        arr = np.asarray(lv)
        padded = np.pad(arr, ((_PAD, _PAD), (_PAD, _PAD), (0, 0)), mode="symmetric")
        levels.append(Image.fromarray(padded))
        sizes.append(arr.shape[:2])
        cdfs.append(_sharpness_cdf(arr))
    return Source(name=name, levels=tuple(levels), sizes=tuple(sizes), cdfs=tuple(cdfs), gray=gray)


def load_sources() -> tuple[Source, ...]:
    """All sources (used to warm a parent process before it forks workers)."""
    return tuple(load_source(i) for i in range(len(PHOTO_FILES)))


@functools.lru_cache(maxsize=1)
def _source_cdf() -> np.ndarray:
    w = np.array([PHOTO_WEIGHTS[n] for n in PHOTO_FILES], dtype=np.float64)
    c = np.cumsum(w)
    return c / c[-1]


def _jitter_colour(rng: np.random.Generator, tex: np.ndarray, gray: bool) -> np.ndarray:
    """Mild random tint (gray sources), saturation, white balance and exposure."""
    if gray:
        tint = rng.uniform(0.6, 1.0, size=3).astype(np.float32)
        tint /= tint.max()
        tex = tex * tint
    else:
        lum = tex.mean(axis=2, keepdims=True)
        sat = rng.uniform(0.75, 1.2)
        tex = lum + (tex - lum) * sat
        tex = tex * rng.uniform(0.9, 1.1, size=3).astype(np.float32)
    tex = tex * rng.uniform(0.65, 1.3)
    return np.clip(tex, 0.0, 1.0).astype(np.float32)


def photo_texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An ``h x w`` crop of a bundled photo at random scale and rotation, colour-jittered (linear RGB)."""
    src = load_source(min(int(np.searchsorted(_source_cdf(), rng.random(), side="right")), len(PHOTO_FILES) - 1))
    level = int(rng.choice(len(PYRAMID), p=(0.35, 0.3, 0.2, 0.15)))
    ih, iw = src.sizes[level]
    centre = min(int(np.searchsorted(src.cdfs[level], rng.random(), side="right")), ih * iw - 1)
    cy, cx = divmod(centre, iw)
    theta = rng.uniform(-np.pi, np.pi) if rng.random() < 0.35 else rng.normal(0, 0.2)
    scale = rng.uniform(1.0, 1.25) if rng.random() < 0.6 else 1.0 / rng.uniform(1.0, 1.08)
    c, s = np.cos(theta) * scale, np.sin(theta) * scale
    flip = -1.0 if rng.random() < 0.5 and src.name not in ("page.png", "text.png") else 1.0
    # output (x, y) -> source (x', y'): rotate/scale about the crop centre, optional mirror
    a, b = c * flip, -s
    d, e = s * flip, c
    x0, y0 = cx + _PAD - (a * w / 2 + b * h / 2), cy + _PAD - (d * w / 2 + e * h / 2)
    im = src.levels[level]
    crop = im.transform((w, h), Image.Transform.AFFINE, (a, b, x0, d, e, y0), resample=Image.Resampling.BILINEAR)
    tex = _LUT[np.asarray(crop)]
    return _jitter_colour(rng, tex, src.gray)


def _random_colour(rng: np.random.Generator, lo: float = 0.02, hi: float = 0.8) -> np.ndarray:
    hue = rng.uniform(0, 1)
    sat = rng.uniform(0.03, 0.4)
    val = rng.uniform(lo, hi) ** 0.5
    k = (np.array([5.0, 3.0, 1.0]) + hue * 6) % 6
    rgb = val - val * sat * np.clip(np.minimum(k, 4 - k), 0, 1)
    return srgb_to_linear(rgb.astype(np.float32))


def flat_texture(rng: np.random.Generator, h: int, w: int, sky: bool = False) -> np.ndarray:
    """A nearly textureless fill: a smooth two-colour gradient with faint low-frequency variation."""
    if sky:
        top = srgb_to_linear(
            np.array([rng.uniform(0.35, 0.6), rng.uniform(0.5, 0.75), rng.uniform(0.75, 0.98)], np.float32)
        )
        bottom = srgb_to_linear(
            np.array([rng.uniform(0.7, 0.9), rng.uniform(0.75, 0.92), rng.uniform(0.8, 0.98)], np.float32)
        )
        if rng.random() < 0.35:  # overcast
            g = rng.uniform(0.55, 0.9)
            top = bottom = srgb_to_linear(np.array([g, g, g * rng.uniform(0.97, 1.05)], np.float32))
    else:
        top = _random_colour(rng)
        bottom = np.clip(top * rng.uniform(0.6, 1.4, size=3).astype(np.float32), 0, 1)
    ang = rng.uniform(0, 2 * np.pi) if not sky else np.pi / 2 + rng.normal(0, 0.1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (np.cos(ang) * xx + np.sin(ang) * yy) / max(h, w)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    tex = top[None, None, :] * (1 - t[..., None]) + bottom[None, None, :] * t[..., None]
    # faint cloud-like variation (a few percent), far below what edges of real texture give
    small = rng.normal(0, 1, size=(max(2, h // 24), max(2, w // 24))).astype(np.float32)
    low = np.asarray(Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BICUBIC))
    tex = tex * (1 + rng.uniform(0.01, 0.05) * low[..., None])
    return np.clip(tex, 0, 1).astype(np.float32)


def grating_texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Fine repetitive texture (stripes, checks, weave) of 3 to 12 pixel period."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, np.pi)
    freq = 1.0 / rng.uniform(3.0, 12.0)
    u = np.cos(ang) * xx + np.sin(ang) * yy
    v = -np.sin(ang) * xx + np.cos(ang) * yy
    kind = rng.integers(3)
    if kind == 0:
        pat = 0.5 + 0.5 * np.sin(2 * np.pi * freq * u)
    elif kind == 1:
        pat = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * freq * u) * np.sin(2 * np.pi * freq * rng.uniform(0.5, 1.5) * v))
        pat = ndimage.gaussian_filter(pat, 0.6)
    else:
        pat = 0.5 + 0.25 * (np.sin(2 * np.pi * freq * u) + np.sin(2 * np.pi * freq * v))
    a, b = _random_colour(rng), _random_colour(rng)
    tex = a * pat[..., None] + b * (1 - pat[..., None])
    noise = ndimage.gaussian_filter(rng.normal(0, 1, (h, w)).astype(np.float32), 1.0)
    tex = tex * (1 + 0.08 * noise[..., None])
    return np.clip(tex, 0, 1).astype(np.float32)


def random_texture(
    rng: np.random.Generator, h: int, w: int, p_flat: float = 0.04, p_grating: float = 0.05
) -> np.ndarray:
    """Draw the fill of one shape: mostly photo crops, some flat, some fine gratings."""
    r = rng.random()
    if r < p_flat:
        return flat_texture(rng, h, w)
    if r < p_flat + p_grating:
        return grating_texture(rng, h, w)
    return photo_texture(rng, h, w)
