"""``dct``: local DCT high-frequency energy ratio (a frequency-domain baseline).

For every pixel the orthonormal 2-D DCT of the ``M x M`` window around it is
split into its low band (``0 < u + v < M/2``) and the rest; the map is the
share of the window's AC energy that lies *outside* the low band,
``(E_AC - E_low) / (E_AC + eps)``. Defocus is a low-pass filter, so blurred
windows put almost all their energy in the low band and score near 0, sharp
textured ones score high; flat windows (no AC energy) score 0. The AC energy
comes from Parseval (window sum of squares minus the DC term), the low band
from separable matrix products on sliding windows, so only ``(M/2)^2``
coefficients per pixel are ever formed. Window sizes ``8`` and ``16`` are
averaged and the result smoothed by a ``smooth x smooth`` box filter.
This is a generic baseline in the spirit of DCT-domain sharpness measures
(e.g. Marichal et al., ICIP 1999; Shen & Sethi, 1996), not a reproduction of one paper.
"""

from __future__ import annotations

import numpy as np

from dbdbench.methods import Method

from ._common import box_mean, parse_scales, to_gray
from .hifst import dct_matrix


def _window_sums(x: np.ndarray, m: int) -> np.ndarray:
    """Sum over the ``m x m`` window whose top-left corner is (y, x) of ``x`` (already padded)."""
    c = np.zeros((x.shape[0] + 1, x.shape[1] + 1), np.float64)
    c[1:, 1:] = x.astype(np.float64).cumsum(0).cumsum(1)
    return c[m:, m:] - c[:-m, m:] - c[m:, :-m] + c[:-m, :-m]


def dct_highfreq_ratio(gray: np.ndarray, m: int, eps: float = 1e-5) -> np.ndarray:
    _h, _w = gray.shape
    b = m // 2
    p = np.pad(gray.astype(np.float32), ((b, m - 1 - b), (b, m - 1 - b)), mode="reflect")
    n_low = max(1, m // 2)
    d = dct_matrix(m)[:n_low].astype(np.float32)  # low-frequency basis rows
    # horizontal pass: (H+m-1, W, n_low)
    hw = np.lib.stride_tricks.sliding_window_view(p, m, axis=1)
    h1 = hw @ d.T
    # vertical pass: windows along rows -> (H, W, n_low[v], m) @ d.T -> (H, W, v, u)
    vw = np.lib.stride_tricks.sliding_window_view(h1, m, axis=0)  # (H, W, v, m)
    coef = vw @ d.T
    idx = np.arange(n_low)
    low = np.add.outer(idx, idx) < n_low
    low[0, 0] = False  # DC is not AC energy
    e_low = np.einsum("hwvu,vu->hw", coef * coef, low.astype(np.float32))
    s1 = _window_sums(p, m)
    s2 = _window_sums(p * p, m)
    e_ac = np.maximum(s2 - s1 * s1 / (m * m), 0.0)
    ratio = np.clip((e_ac - e_low) / (e_ac + eps * m * m), 0.0, 1.0)
    return ratio.astype(np.float32)


def dct_map(image: np.ndarray, sizes=(8, 16), smooth: int = 15) -> np.ndarray:
    g = to_gray(image)
    acc = np.zeros(g.shape, np.float32)
    for m in sizes:
        acc += dct_highfreq_ratio(g, m)
    acc /= len(sizes)
    if smooth > 1:
        acc = box_mean(acc, smooth)
    return np.clip(acc, 0.0, 1.0).astype(np.float32)


class DCTRatio(Method):
    id = "dct"
    name = "Local DCT high-frequency ratio"
    paper = "DCT-domain sharpness baseline (cf. Marichal, Ma & Zhang, ICIP 1999)"
    year = None
    kind = "handcrafted"
    description = "Share of local AC energy outside the low DCT band, windows 8 and 16, box-smoothed."
    options = {"sizes": (8, 16), "smooth": 15}
    version = "1"

    def predict(self, image: np.ndarray) -> np.ndarray:
        return dct_map(image, parse_scales(self.config["sizes"]), int(self.config["smooth"]))
