"""``laplacian``: multi-scale local variance of the Laplacian.

The variance of the Laplacian (Pech-Pacheco et al., ICPR 2000) is the most
used single-number sharpness measure; here it is computed locally: the
Laplacian of the luma (3x3 kernel after a sigma=0.5 Gaussian pre-smoothing
against JPEG noise), its local variance over ``s x s`` windows, log-compressed,
percentile-normalised, averaged over the scales.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from dbdbench.methods import Method

from ._common import gaussian, local_variance, mean_of_normalised, parse_scales, to_gray


def laplacian_variance_map(
    image: np.ndarray, scales=(7, 15, 31), presmooth: float = 0.5, eps: float = 1e-6
) -> np.ndarray:
    g = to_gray(image)
    if presmooth > 0:
        g = gaussian(g, presmooth)
    lap = ndimage.laplace(g, mode="reflect")
    return mean_of_normalised(lambda s: np.log(eps + local_variance(lap, s)), scales)


class LaplacianVariance(Method):
    id = "laplacian"
    name = "Laplacian variance"
    paper = "Pech-Pacheco, Cristobal, Chamorro-Martinez & Fernandez-Valdivia, Diatom autofocusing in brightfield microscopy, ICPR 2000"
    year = 2000
    kind = "handcrafted"
    description = "Multi-scale local variance of the Laplacian, log-compressed, scales averaged."
    options = {"scales": (7, 15, 31), "presmooth": 0.5, "eps": 1e-6}
    version = "1"

    def predict(self, image: np.ndarray) -> np.ndarray:
        c = self.config
        return laplacian_variance_map(image, parse_scales(c["scales"]), float(c["presmooth"]), float(c["eps"]))
