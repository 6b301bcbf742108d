"""Plugins used by the tests, loaded through DBDBENCH_EXTRA_PLUGINS exactly as a user's module would be."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from dbdbench import hookimpl
from dbdbench.methods import Method


class LocalContrast(Method):
    """A tiny but real focus measure: local mean of the squared Laplacian, scaled to [0, 1]."""

    id = "test-contrast"
    name = "Local contrast (test fixture)"
    kind = "handcrafted"
    options = {"window": 9}

    def predict(self, image):
        gray = image.astype(np.float32).mean(axis=2) / 255.0
        energy = ndimage.uniform_filter(ndimage.laplace(gray) ** 2, self.config["window"])
        return (energy / (energy.max() + 1e-12)).astype(np.float32)


@hookimpl
def register_methods(register):
    register(LocalContrast)
