"""A method with a separable 'model' and no trained weights, for the ``bench`` and leaderboard tests."""

from __future__ import annotations

import numpy as np

from dbdbench import hookimpl
from dbdbench.methods import Method


class UntrainedNet(Method):
    id = "test-untrained"
    name = "Untrained network (test fixture)"
    kind = "learned"
    paper = "nobody, 2024"
    options = {"variant": "lite"}

    def predict(self, image):
        return np.full(image.shape[:2], 0.5, np.float32)

    def provenance(self):
        return {"variant": self.config["variant"], "weights": "random", "weights_sha256": None}

    def model_forward(self, height, width):
        x = np.ones((height, width), np.float32)
        return lambda: float((x * 2).sum())


@hookimpl
def register_methods(register):
    register(UntrainedNet)
