"""The method contract: what every DBD method, built in or third party, provides.

A method is a subclass of :class:`Method` with descriptive class attributes and
a :meth:`Method.predict` that maps one RGB photo to a focus map:

* input: ``H x W x 3`` ``uint8`` RGB;
* output: ``H x W`` ``float32`` in ``[0, 1]``, **1 = in focus**, same size as the input.

The harness checks every output (:func:`check_prediction`), so a method that
breaks the contract fails loudly on the image where it happened instead of
silently skewing a leaderboard.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from .errors import DbdbenchError

Kind = Literal["handcrafted", "learned"]


class Method:
    """Base class of all methods. Subclasses set the class attributes and implement :meth:`predict`.

    Options are constructor keyword arguments with defaults declared in
    :attr:`options`; values given as strings on the command line
    (``--option stride=4``) are converted to the default's type.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    paper: ClassVar[str] = ""
    year: ClassVar[int | None] = None
    kind: ClassVar[Kind] = "handcrafted"
    description: ClassVar[str] = ""
    #: Option names and their defaults. Only these keys are accepted.
    options: ClassVar[dict[str, Any]] = {}
    #: Version of the method's implementation; bump it when outputs change so caches are not mixed.
    version: ClassVar[str] = "1"

    def __init__(self, device: str = "cpu", **options: Any):
        self.device = device
        self.config = resolve_options(type(self), options)

    def predict(self, image: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict_batch(self, images: Iterable[np.ndarray]) -> list[np.ndarray]:
        """Predict several images; learned methods may override this to batch on the device."""
        return [self.predict(im) for im in images]

    def provenance(self) -> dict[str, Any]:
        """Facts recorded in every result and in the map-cache identity: override to add the weights' hash.

        Learned methods return at least ``{"weights": <path or "random">, "weights_sha256": <hex or None>}``,
        so maps made with other weights are never reused and untrained networks are flagged.
        """
        return {}

    def model_forward(self, height: int, width: int):
        """Optional, for ``dbdbench bench``: a zero-argument callable that runs only the model on a prepared
        input of this size (no decoding, resizing or post-processing), synchronising the device before it
        returns. ``None`` (the default): the method has no separable model and only end-to-end time is measured.
        """
        return None

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "id": cls.id,
            "name": cls.name,
            "paper": cls.paper,
            "year": cls.year,
            "kind": cls.kind,
            "description": cls.description,
            "options": dict(cls.options),
            "version": cls.version,
        }


def resolve_options(cls: type[Method], given: dict[str, Any]) -> dict[str, Any]:
    """Merge user options into the method's defaults, converting strings to the default's type."""
    config = dict(cls.options)
    for key, value in given.items():
        if key not in cls.options:
            known = ", ".join(sorted(cls.options)) or "none"
            raise DbdbenchError(f"method {cls.id!r} has no option {key!r} (options: {known})")
        config[key] = coerce_option(cls.id, key, value, cls.options[key])
    return config


def coerce_option(method_id: str, key: str, value: Any, default: Any) -> Any:
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    try:
        if isinstance(default, bool):
            lowered = value.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, (tuple, list)):
            kind = type(default[0]) if default else str
            return type(default)(kind(v) for v in value.split(","))
    except ValueError:
        raise DbdbenchError(
            f"method {method_id!r}: option {key}={value!r} is not a valid {type(default).__name__}"
        ) from None
    return value


def parse_option_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """Parse ``key=value`` strings from ``--option``."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise DbdbenchError(f"--option {pair!r}: expected key=value")
        out[key.strip()] = value.strip()
    return out


def check_prediction(method_id: str, stem: str, image: np.ndarray, pred: Any) -> np.ndarray:
    """Enforce the method contract on one output; return it as float32."""
    if not isinstance(pred, np.ndarray):
        raise_method(method_id, stem, f"returned {type(pred).__name__}, expected a numpy array")
    if pred.ndim == 3 and pred.shape[2] == 1:
        pred = pred[..., 0]
    if pred.shape != image.shape[:2]:
        raise_method(method_id, stem, f"returned shape {pred.shape}, expected {image.shape[:2]} (the input's H x W)")
    if not np.issubdtype(pred.dtype, np.number) or np.issubdtype(pred.dtype, np.complexfloating):
        raise_method(method_id, stem, f"returned dtype {pred.dtype}, expected a real number type")
    pred = pred.astype(np.float32, copy=False)
    if not np.isfinite(pred).all():
        raise_method(method_id, stem, f"returned {int((~np.isfinite(pred)).sum())} NaN/inf values")
    lo, hi = float(pred.min()), float(pred.max())
    if lo < -1e-4 or hi > 1 + 1e-4:
        raise_method(method_id, stem, f"returned values in [{lo:.4g}, {hi:.4g}], expected [0, 1]")
    return np.clip(pred, 0.0, 1.0)


def raise_method(method_id: str, stem: str, problem: str):
    from .errors import MethodError

    raise MethodError(method_id, stem, problem)


def check_device(device: str) -> str:
    """Refuse anything but ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, without importing torch."""
    if device not in {"auto", "cpu", "cuda"} and not device.startswith("cuda:"):
        raise DbdbenchError(f"--device {device!r}: expected auto, cpu or cuda")
    return device


def resolve_device(device: str) -> str:
    """Turn ``auto`` into ``cuda`` when torch sees a GPU, else ``cpu``. Imports torch lazily."""
    if check_device(device) == "cpu":
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise DbdbenchError(f"--device {device}: torch sees no CUDA device on this machine")
    return device


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
