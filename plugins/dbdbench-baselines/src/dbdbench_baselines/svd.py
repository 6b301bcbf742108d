"""``svd``: Su, Lu & Tan, "Blurred image region detection and classification", ACM MM 2011.

Singular value feature: for the ``p x p`` patch around a pixel with singular
values ``l_1 >= l_2 >= ...``, ``beta = sum_{i<=k} l_i / sum_i l_i``. Blur
removes detail, so a blurred patch is dominated by its first few singular
values (beta near 1); the focus map is ``1 - beta``, min-max normalised.

Defaults: ``patch = 15``, ``k = 3`` (the choice of common re-implementations; the
paper's exact patch size is not restated here), luma in [0, 1]. Patches are
evaluated on a grid of step ``stride`` (default 3) with one batched LAPACK call
per block of patches (``np.linalg.svd(..., compute_uv=False)``), then the map is
interpolated back to the input resolution (bilinear, from the pixels the grid samples); ``stride=1``
evaluates every pixel (about 9x slower).
"""

from __future__ import annotations

import numpy as np

from dbdbench.methods import Method
from dbdbench.resize import resize

from ._common import normalize01, to_gray


def svd_map(image: np.ndarray, patch: int = 15, k: int = 3, stride: int = 3, block: int = 8192) -> np.ndarray:
    g = to_gray(image).astype(np.float32)
    h, w = g.shape
    r = patch // 2
    p = np.pad(g, ((r, patch - 1 - r), (r, patch - 1 - r)), mode="reflect")
    win = np.lib.stride_tricks.sliding_window_view(p, (patch, patch))[::stride, ::stride]
    gh, gw = win.shape[:2]
    flat = win.reshape(gh * gw, patch, patch)
    beta = np.empty(gh * gw, np.float32)
    for s in range(0, flat.shape[0], block):
        sv = np.linalg.svd(np.ascontiguousarray(flat[s : s + block]), compute_uv=False)
        tot = sv.sum(axis=1)
        top = sv[:, :k].sum(axis=1)
        beta[s : s + block] = np.where(tot > 1e-8, top / np.maximum(tot, 1e-8), 1.0)
    sharp = (1.0 - beta).reshape(gh, gw)
    if (gh, gw) != (h, w):
        # bilinear from the grid back to the full resolution (grid point i sits at pixel i*stride)
        sharp = resize(sharp, (h, w), stride=stride)
    return normalize01(sharp)


class SVDRatio(Method):
    id = "svd"
    name = "Singular value feature (Su et al.)"
    paper = "B. Su, S. Lu and C. L. Tan, Blurred image region detection and classification, ACM Multimedia 2011"
    year = 2011
    kind = "handcrafted"
    description = (
        "1 - (sum of the top-k singular values / sum of all) of the local patch; batched SVD on a strided grid."
    )
    options = {"patch": 15, "k": 3, "stride": 3}
    version = "1"

    def predict(self, image: np.ndarray) -> np.ndarray:
        c = self.config
        return svd_map(image, int(c["patch"]), int(c["k"]), max(1, int(c["stride"])))
