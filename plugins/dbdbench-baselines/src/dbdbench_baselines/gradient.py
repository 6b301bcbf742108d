"""``gradient``: multi-scale local energy of the image gradient magnitude.

A classic focus measure (Tenengrad family; see Pertuz et al., "Analysis of
focus measure operators for shape-from-focus", Pattern Recognition 2013):
in-focus regions have strong local gradients. For each window size ``s`` the
local mean of the squared Sobel gradient magnitude of the luma is taken,
its square root taken (local RMS gradient), normalised to [0, 1] by its
1st/99th percentiles, and the scales are averaged.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from dbdbench.methods import Method

from ._common import box_mean, mean_of_normalised, parse_scales, to_gray


def gradient_energy_map(image: np.ndarray, scales=(7, 15, 31), eps: float = 1e-8) -> np.ndarray:
    g = to_gray(image)
    gx = ndimage.sobel(g, axis=1, mode="reflect")
    gy = ndimage.sobel(g, axis=0, mode="reflect")
    e = gx * gx + gy * gy
    return mean_of_normalised(lambda s: np.sqrt(eps + box_mean(e, s)), scales)


class GradientEnergy(Method):
    id = "gradient"
    name = "Gradient energy"
    paper = "Tenengrad-style focus measure (Pertuz, Puig & Garcia, Pattern Recognition 2013, survey)"
    year = None
    kind = "handcrafted"
    description = (
        "Multi-scale local mean of the squared Sobel gradient magnitude (local RMS gradient), scales averaged."
    )
    options = {"scales": (7, 15, 31), "eps": 1e-8}
    version = "1"

    def predict(self, image: np.ndarray) -> np.ndarray:
        return gradient_energy_map(image, parse_scales(self.config["scales"]), float(self.config["eps"]))
