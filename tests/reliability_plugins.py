"""Fake methods for the reliability suite, loaded into real CLI subprocesses via
``DBDBENCH_EXTRA_PLUGINS=reliability_plugins`` (with this folder on ``PYTHONPATH``).

``predict`` only sees pixels, so "the bad image" is marked in its pixels: an
image whose top-left pixel is exactly ``MARKER`` (written losslessly as PNG by
the tests) triggers the failure; every other image gets a real, deterministic
local-variance focus map.
"""

from __future__ import annotations

import os
import time

import numpy as np

from dbdbench.hookspecs import hookimpl
from dbdbench.methods import Method

MARKER = (1, 2, 3)


def is_marked(image: np.ndarray) -> bool:
    return tuple(int(v) for v in image[0, 0, :3]) == MARKER


def sharpness(image: np.ndarray) -> np.ndarray:
    """Local variance of the luma in a 7x7 window, squashed to [0, 1]: high = in focus."""
    from scipy.ndimage import uniform_filter  # lazy: keeps `score` subprocesses quick to start

    gray = image.astype(np.float64).mean(axis=2) / 255.0
    mean = uniform_filter(gray, 7)
    var = np.maximum(uniform_filter(gray * gray, 7) - mean * mean, 0.0)
    return (var / (var + 1e-3)).astype(np.float32)


class FakeSharp(Method):
    id = "fake-sharp"
    name = "Fake sharpness (local variance)"
    description = "reliability-suite helper: deterministic local-variance focus map"

    def predict(self, image):
        return sharpness(image)


class FakeFast(Method):
    id = "fake-fast"
    name = "Fake: gradient magnitude (numpy only, for very large images)"

    def predict(self, image):
        gray = image[..., 1].astype(np.float32)
        grad = np.zeros_like(gray)
        grad[:, 1:] = np.abs(np.diff(gray, axis=1))
        return np.minimum(grad, 32.0) / 32.0


class RaisesOnMarked(Method):
    """Raises ``raises`` (an exception class and its message) on a marked image."""

    raises: tuple[type[BaseException], str]

    def predict(self, image):
        if is_marked(image):
            kind, message = self.raises
            raise kind(message)
        return sharpness(image)


class FakeRaise(RaisesOnMarked):
    id = "fake-raise"
    name = "Fake: raises on marked images"
    raises = (RuntimeError, "synthetic failure on a marked image")


class FakeNan(Method):
    id = "fake-nan"
    name = "Fake: NaN/inf on marked images"

    def predict(self, image):
        out = sharpness(image)
        if is_marked(image):
            out[0, 0] = np.nan
            out[-1, -1] = np.inf
        return out


class FakeShape(Method):
    id = "fake-shape"
    name = "Fake: wrong shape on marked images"

    def predict(self, image):
        out = sharpness(image)
        return out[: max(1, out.shape[0] // 2)] if is_marked(image) else out


class FakeRange(Method):
    id = "fake-range"
    name = "Fake: values in 0..255 on marked images"

    def predict(self, image):
        out = sharpness(image)
        return out * 255.0 + 10.0 if is_marked(image) else out


class FakeNone(Method):
    id = "fake-none"
    name = "Fake: returns None on marked images"

    def predict(self, image):
        return None if is_marked(image) else sharpness(image)


class FakeSlow(Method):
    id = "fake-slow"
    name = "Fake: sleeps per image (for kill tests)"

    def predict(self, image):
        time.sleep(float(os.environ.get("DBDBENCH_FAKE_SLEEP", "0.15")))
        return sharpness(image)


class FakeInitFail(Method):
    id = "fake-init-fail"
    name = "Fake: constructor raises"

    def __init__(self, device="cpu", **options):
        raise OSError("weights file not found: /nonexistent/weights.pth")


class FakeExit(RaisesOnMarked):
    id = "fake-exit"
    name = "Fake: calls sys.exit / raises KeyboardInterrupt-like BaseException on marked images"
    raises = (SystemExit, "plugin called sys.exit")


ALL = (FakeSharp, FakeFast, FakeRaise, FakeNan, FakeShape, FakeRange, FakeNone, FakeSlow, FakeInitFail, FakeExit)


@hookimpl
def register_methods(register):
    for cls in ALL:
        register(cls)
