"""``example``: local RMS contrast of the luma, a classic (and weak) focus measure.

In-focus texture has strong local intensity variation; defocus blur smooths it away. For each pixel
the standard deviation of the luma in a ``window`` x ``window`` box is taken, then divided by its
``percentile``-th percentile over the image and clipped to [0, 1] (1 = in focus).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from dbdbench.methods import Method


def local_contrast(image: np.ndarray, window: int = 15, percentile: float = 99.0) -> np.ndarray:
    """H x W x 3 uint8 RGB -> H x W float32 in [0, 1]."""
    gray = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32) / 255.0
    mean = ndimage.uniform_filter(gray, size=window, mode="reflect")
    mean_sq = ndimage.uniform_filter(gray * gray, size=window, mode="reflect")
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    scale = float(np.percentile(std, percentile))
    if scale <= 0:  # a flat image: nothing is in focus
        return np.zeros(gray.shape, dtype=np.float32)
    return np.clip(std / scale, 0.0, 1.0).astype(np.float32)


class LocalContrast(Method):
    id = "example"  # what users type: dbdbench run --method example
    name = "Local RMS contrast (example plugin)"
    paper = "textbook focus measure; see plugins/dbdbench-example"
    year = None
    kind = "handcrafted"  # "learned" methods also get a device and may batch
    description = "Standard deviation of the luma in a window, divided by its 99th percentile."
    options = {"window": 15, "percentile": 99.0}  # defaults; --option window=31 arrives converted to int
    version = "1"  # bump when outputs change, so cached maps are not reused

    def __init__(self, device: str = "cpu", **options):
        super().__init__(device=device, **options)  # fills self.config from options + defaults
        if self.config["window"] < 1 or not 0 < self.config["percentile"] <= 100:
            from dbdbench.errors import DbdbenchError

            raise DbdbenchError(f"method 'example': need window >= 1 and 0 < percentile <= 100, got {self.config}")

    def predict(self, image: np.ndarray) -> np.ndarray:
        return local_contrast(image, int(self.config["window"]), float(self.config["percentile"]))
