"""Saliency maps for hard mining, from a pluggable provider.

The paper takes S from the DSS saliency network (Hou et al., CVPR 2017), whose weights cannot be fetched
here. The default provider is classical: spectral residual saliency (Hou & Zhang, CVPR 2007) - the
log-amplitude spectrum minus its local average, back-transformed with the original phase - computed on
a 64-px-wide copy, smoothed, resized back and binarised at three times its mean (at most the 90th
percentile). ``saliency=folder:DIR`` reads precomputed maps ``DIR/<stem>.png`` (white = salient) instead,
for users who have DSS or any other detector's output; ``saliency=none`` disables hard mining's S (H = F).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def spectral_residual(image: np.ndarray, width: int = 64) -> np.ndarray:
    """Continuous saliency in [0, 1] of an RGB uint8 image, same size as the image."""
    h, w = image.shape[:2]
    gray = image.astype(np.float32).mean(axis=2) if image.ndim == 3 else image.astype(np.float32)
    scale = width / w
    small = ndimage.zoom(gray, (max(scale * h, 8) / h, width / w), order=1)
    spectrum = np.fft.fft2(small)
    log_amp = np.log(np.abs(spectrum) + 1e-8)
    phase = np.angle(spectrum)
    residual = log_amp - ndimage.uniform_filter(log_amp, size=3, mode="nearest")
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2
    sal = ndimage.gaussian_filter(sal, sigma=2.5)
    sal = ndimage.zoom(sal, (h / sal.shape[0], w / sal.shape[1]), order=1)
    sal = sal[:h, :w]
    if sal.shape != (h, w):
        sal = np.pad(sal, ((0, h - sal.shape[0]), (0, w - sal.shape[1])), mode="edge")
    lo, hi = float(sal.min()), float(sal.max())
    return ((sal - lo) / (hi - lo)).astype(np.float32) if hi > lo else np.zeros((h, w), np.float32)


def binary_salient(image: np.ndarray) -> np.ndarray:
    """S as a 0/1 uint8 mask."""
    sal = spectral_residual(image)
    threshold = min(3.0 * float(sal.mean()), float(np.percentile(sal, 90)))
    return (sal >= threshold).astype(np.uint8)
