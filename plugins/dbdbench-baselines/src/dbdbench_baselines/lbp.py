"""``lbp``: Yi & Eramian, "LBP-based segmentation of defocus blur", IEEE TIP 25(4), 2016.

Sharpness metric (their Eq. 15): the share of pixels in an ``s x s`` window
whose rotation-invariant uniform LBP(8, 1) code is 6, 7, 8 or 9 (9 =
non-uniform), the LBP being computed on the 8-bit luma with threshold
``T_LBP = 0.016`` (x 255): bit ``p`` is set when ``floor(g_p) - g_c > T``
(``g_p`` bilinearly interpolated on the unit circle, replicate padding), as
in the authors' released ``lbpCode``. Window sizes 11, 15 and 21 (the paper's
three scales); each scale's map is min-max normalised and the scales are
averaged.

``refine=True`` adds the paper's alpha-matting step: a trimap (1 where the
map > ``refine_hi``, 0 where < ``refine_lo``, unknown elsewhere) is solved with
Levin et al.'s closed-form matting (``pymatting.estimate_alpha_cf``) using the
photo as guide. Deviations: the paper runs matting per scale and fuses the
scales with a multi-scale graphical-model inference (from Shi et al. 2014);
here the scale-averaged map is matted once and no graphical model is used.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from dbdbench.methods import Method

from ._common import RGB2GRAY_MATLAB, check_image, matlab_round, normalize01, parse_scales


def _gray_u8(image: np.ndarray) -> np.ndarray:
    image = check_image(image)
    x = image.astype(np.float64)
    if x.ndim == 3:
        x = matlab_round(x @ RGB2GRAY_MATLAB)
    return np.clip(x, 0, 255)


def lbp_riu2(gray255: np.ndarray, threshold: float) -> np.ndarray:
    """LBP^{riu2}_{8,1} codes (0..9) with the one-sided threshold of Yi & Eramian's code."""
    i = gray255.astype(np.float64)
    p = np.pad(i, 1, mode="edge")
    right, left = p[1:-1, 2:], p[1:-1, :-2]
    above, below = p[:-2, 1:-1], p[2:, 1:-1]
    ar, al, br, bl = p[:-2, 2:], p[:-2, :-2], p[2:, 2:], p[2:, :-2]
    a = np.sqrt(2.0) / 2.0

    def diag(h, v, hv):
        return (1 - a) * ((1 - a) * i + a * h) + a * ((1 - a) * v + a * hv)

    neigh = [
        right,
        diag(right, above, ar),
        above,
        diag(left, above, al),
        left,
        diag(left, below, bl),
        below,
        diag(right, below, br),
    ]
    bits = np.stack([(np.floor(g) - i - threshold) > 0 for g in neigh]).astype(np.int8)
    u = np.abs(bits - np.roll(bits, 1, axis=0)).sum(axis=0)
    code = bits.sum(axis=0).astype(np.int8)
    code[u > 2] = 9
    return code


def lbp_sharpness(image: np.ndarray, scales=(11, 15, 21), threshold: float = 0.016) -> np.ndarray:
    g = _gray_u8(image)
    code = lbp_riu2(g, threshold * 255.0)
    ind = (code >= 6).astype(np.float32)
    acc = np.zeros(g.shape, np.float32)
    for s in scales:
        acc += normalize01(ndimage.uniform_filter(ind, size=int(s), mode="nearest"))
    return np.clip(acc / len(scales), 0.0, 1.0).astype(np.float32)


def matting_refine(image: np.ndarray, m: np.ndarray, hi: float, lo: float) -> np.ndarray:
    from pymatting import estimate_alpha_cf

    trimap = np.full(m.shape, 0.5, np.float64)
    trimap[m > hi] = 1.0
    trimap[m < lo] = 0.0
    if not (trimap == 1.0).any() or not (trimap == 0.0).any():
        return m  # matting needs both labels; keep the raw map
    img = check_image(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    alpha = estimate_alpha_cf(img.astype(np.float64) / 255.0, trimap)
    return np.clip(alpha, 0.0, 1.0).astype(np.float32)


class LBPSharpness(Method):
    id = "lbp"
    name = "LBP sharpness (Yi & Eramian)"
    paper = "X. Yi and M. Eramian, LBP-based segmentation of defocus blur, IEEE TIP 25(4), 2016"
    year = 2016
    kind = "handcrafted"
    description = (
        "Share of LBP^riu2_{8,1} codes 6-9 (T_LBP=0.016) in windows 11/15/21; optional closed-form matting refinement."
    )
    options = {"scales": (11, 15, 21), "threshold": 0.016, "refine": False, "refine_hi": 0.3, "refine_lo": 0.01}
    version = "1"

    def predict(self, image: np.ndarray) -> np.ndarray:
        c = self.config
        m = lbp_sharpness(image, parse_scales(c["scales"]), float(c["threshold"]))
        if c["refine"]:
            m = matting_refine(image, m, float(c["refine_hi"]), float(c["refine_lo"]))
        return m
