"""The camera model: thin-lens circle of confusion, pillbox PSF, layered compositing, sensor.

Thin lens: a point at depth ``z`` focused at ``z_f`` images as a disk of diameter
``c = K * |1/z - 1/z_f|`` pixels, where ``K`` (pixel-metres) folds aperture,
focal length and pixel pitch into one number. Each layer is blurred with the
disk PSF of its own CoC - colour premultiplied by alpha, and alpha itself - and
the layers are composited back to front with "over". This is the standard
layered defocus approximation: a blurred foreground edge spreads over the
sharp background behind it, as in a real photo, and a blurred background does
not leak over a sharp foreground edge.

Blur acts on linear radiance; the sensor then adds shot and read noise,
applies a gamma 2.2 curve (approximating sRGB) and quantises, and may JPEG-compress.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np

from .textures import linear_to_srgb

#: Subpixel samples per axis used to anti-alias the disk kernel.
_SUPERSAMPLE = 8


@lru_cache(maxsize=512)
def _disk_kernel_cached(c_key: int) -> np.ndarray:
    c = c_key / 1000.0
    r = c / 2.0
    half = int(np.ceil(r + 0.5))
    offs = (np.arange(_SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - 0.5
    grid = np.arange(-half, half + 1)
    sub = (grid[:, None] + offs[None, :]).ravel()  # (n * SS,)
    inside = (sub[:, None] ** 2 + sub[None, :] ** 2) <= r * r
    n = grid.size
    k = inside.reshape(n, _SUPERSAMPLE, n, _SUPERSAMPLE).mean(axis=(1, 3))
    total = k.sum()
    if total <= 0:
        k = np.zeros((1, 1))
        k[0, 0] = 1.0
        return k
    return (k / total).astype(np.float32)


def disk_kernel(c: float) -> np.ndarray:
    """Normalised pillbox PSF of diameter ``c`` pixels, anti-aliased by supersampling (fractional ``c`` ok)."""
    return _disk_kernel_cached(round(max(c, 0.0) * 1000))


#: Large disks are applied at reduced resolution (the result is smooth at that scale anyway):
#: CoC >= 6 px at 1/2, >= 16 px at 1/4 resolution (factors must be powers of 2). Keeps generation inside its time budget.
_DOWNSAMPLE = ((16.0, 4), (6.0, 2))


def _area_down(a: np.ndarray, f: int) -> np.ndarray:
    h, w = a.shape[:2]
    ph, pw = (-h) % f, (-w) % f
    if ph or pw:
        a = np.pad(a, ((0, ph), (0, pw), (0, 0)), mode="edge")
    while f > 1:  # 2x2 box sums, repeated: much faster than a reshaped mean
        a = (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) * np.float32(0.25)
        f //= 2
    return a


def _bilinear_up(a: np.ndarray, f: int, h: int, w: int) -> np.ndarray:
    from PIL import Image

    H, W = a.shape[0] * f, a.shape[1] * f
    out = np.empty((h, w, a.shape[2]), np.float32)
    for ch in range(a.shape[2]):
        im = Image.fromarray(np.ascontiguousarray(a[..., ch]), mode="F").resize((W, H), Image.Resampling.BILINEAR)
        out[..., ch] = np.asarray(im)[:h, :w]
    return out


def blur_layer(colour: np.ndarray, alpha: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    """Blur premultiplied colour and alpha of one layer with the disk of diameter ``c`` (FFT)."""
    # Imported here: scipy.signal takes about 1 s to import, and every 'dbdbench run' on synth imports this
    # module (the adapter finds its cache through it) while only generating a split renders.
    from scipy import signal

    if c < 0.5 or disk_kernel(c).shape == (1, 1):
        return colour, alpha
    stack = np.concatenate([colour, alpha[..., None]], axis=2)
    f = next((f for lo, f in _DOWNSAMPLE if c >= lo), 1)
    if f > 1:
        h, w = stack.shape[:2]
        small = _area_down(stack, f)
        out = signal.fftconvolve(small, disk_kernel(c / f)[..., None], mode="same", axes=(0, 1)).astype(np.float32)
        out = _bilinear_up(out, f, h, w)
    else:
        out = signal.fftconvolve(stack, disk_kernel(c)[..., None], mode="same", axes=(0, 1)).astype(np.float32)
    np.clip(out, 0.0, None, out=out)
    return out[..., :3], np.minimum(out[..., 3], 1.0)


def composite(layers: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """Blur each (colour, alpha, coc) layer and composite back to front; returns linear RGB."""
    out = np.zeros_like(layers[0][0])
    for colour, alpha, c in layers:
        bc, ba = blur_layer(colour, alpha, c)
        out = bc + (1.0 - ba)[..., None] * out
    return out


def sensor(
    rng: np.random.Generator,
    linear: np.ndarray,
    noise: bool = True,
    jpeg: bool = True,
) -> np.ndarray:
    """Exposure, shot + read noise, gamma 2.2 encoding (sRGB-like), 8-bit quantisation and optional JPEG."""
    x = linear * rng.uniform(0.9, 1.15)
    if noise and rng.random() < 0.75:
        shot = rng.uniform(0.0005, 0.004)
        read = rng.uniform(0.0005, 0.004)
        sigma = np.sqrt(shot * np.clip(x, 0, 1) + read * read)
        x = x + sigma * rng.standard_normal(x.shape, dtype=np.float32)
    srgb = linear_to_srgb(x)
    img = np.clip(np.rint(srgb * 255.0), 0, 255).astype(np.uint8)
    if jpeg and rng.random() < 0.3:
        from PIL import Image

        q = int(rng.integers(70, 96))
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=q, subsampling=0 if q > 90 else 2, optimize=False)
        buf.seek(0)
        with Image.open(buf) as im:
            img = np.asarray(im.convert("RGB")).copy()
    return img
