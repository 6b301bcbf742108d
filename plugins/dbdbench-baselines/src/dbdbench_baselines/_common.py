"""Shared helpers of the handcrafted baselines: grayscale conversion, local
windowed statistics, MATLAB-compatible rounding and normalisation.

Everything here is vectorised numpy/scipy and works on float32 or float64.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: MATLAB ``rgb2gray`` weights (the exact inverse-NTSC row MATLAB uses).
RGB2GRAY_MATLAB = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])


def check_image(image: np.ndarray) -> np.ndarray:
    """Accept ``H x W x 3`` (or ``H x W``) uint8; return it unchanged or fail clearly."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"expected an H x W x 3 RGB image, got shape {image.shape}")
    return image


def to_gray(image: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Luma in [0, 1] (Rec. 601 weights as MATLAB's ``rgb2gray``), no rounding."""
    image = check_image(image)
    x = image.astype(np.float64)
    if x.ndim == 3:
        x = x @ RGB2GRAY_MATLAB
    if image.dtype == np.uint8:
        x = x / 255.0
    return x.astype(dtype, copy=False)


def matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB's ``round`` (half away from zero), as used when it casts to an integer class."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def mat2gray(x: np.ndarray) -> np.ndarray:
    """MATLAB ``mat2gray``: rescale to [0, 1] by the array's own min and max (constant -> 0)."""
    lo = float(x.min())
    hi = float(x.max())
    if hi <= lo:
        return np.zeros_like(x)
    return (x - lo) / (hi - lo)


def normalize01(x: np.ndarray) -> np.ndarray:
    """Min-max normalisation to float32 [0, 1]; a constant map becomes 0.5 everywhere."""
    x = np.asarray(x, dtype=np.float32)
    lo = float(x.min())
    hi = float(x.max())
    if not np.isfinite(lo) or not np.isfinite(hi) or hi - lo < 1e-12:
        return np.full(x.shape, 0.5, dtype=np.float32)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def robust_normalize01(x: np.ndarray, lo_q: float = 1.0, hi_q: float = 99.0) -> np.ndarray:
    """Percentile-clipped normalisation to [0, 1] (robust to a few extreme responses)."""
    x = np.asarray(x, dtype=np.float32)
    lo, hi = np.percentile(x, [lo_q, hi_q])
    if hi - lo < 1e-12:
        return normalize01(x)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def box_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Mean over a ``size x size`` window centred on each pixel (reflect padding)."""
    return ndimage.uniform_filter(x, size=int(size), mode="reflect")


def local_variance(x: np.ndarray, size: int) -> np.ndarray:
    """Variance over a ``size x size`` window, ``E[x^2] - E[x]^2`` clipped at 0."""
    x = x.astype(np.float32, copy=False)
    m = box_mean(x, size)
    m2 = box_mean(x * x, size)
    return np.maximum(m2 - m * m, 0.0)


def gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(x, sigma=float(sigma), mode="reflect")


def mean_of_normalised(feature, scales) -> np.ndarray:
    """Average over ``scales`` of ``robust_normalize01(feature(s))``, clipped to [0, 1], float32."""
    maps = iter(feature(s) for s in scales)
    first = next(maps)
    acc = robust_normalize01(first).astype(np.float32)
    for m in maps:
        acc += robust_normalize01(m)
    return np.clip(acc / len(scales), 0.0, 1.0).astype(np.float32)


def parse_scales(value) -> tuple[int, ...]:
    """Options arrive as tuples (defaults) or strings like ``"7,15,31"``."""
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    scales = tuple(int(v) for v in value)
    if not scales or min(scales) < 1:
        raise ValueError(f"scales must be positive integers, got {value!r}")
    return scales
