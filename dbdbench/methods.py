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

from collections.abc import Iterable
from typing import Any, ClassVar, Literal

import numpy as np

from .devices import check_device, resolve_device
from .options import resolve_options

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
    #: May ``--workers N`` run this method in N processes? Learned methods say no: they batch on their device
    #: and already use every core through torch's threads, so extra processes only compete for them.
    process_parallel: ClassVar[bool] = True

    def __init__(self, device: str = "cpu", *, config: dict[str, Any] | None = None, **options: Any):
        """``options`` as given (``stride="4"`` is converted), or ``config``: every option resolved already, as
        :meth:`dbdbench.prepare.PreparedMethod.build` passes them, used as it is."""
        if config is not None and options:
            raise TypeError(f"method {self.id!r}: give options or config, not both")
        self.device = device
        self.config = dict(config) if config is not None else resolve_options(self.id, options, self.options)

    @classmethod
    def choose_device(cls, asked: str) -> str:
        """The device this method runs on when ``asked`` (``--device``) is requested, which results record.

        Learned methods resolve it (``auto``: ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without one is
        refused with the fix). Handcrafted methods run on the CPU whatever is asked (:meth:`device_note` says so).
        """
        if cls.kind == "learned":
            return resolve_device(asked)
        check_device(asked)
        return "cpu"

    @classmethod
    def device_note(cls, asked: str) -> str | None:
        """What to tell the user when :meth:`choose_device` ignores the device asked for, else None."""
        if cls.kind != "learned" and asked not in ("auto", "cpu"):
            return f"{cls.id} is a handcrafted method and runs on the CPU; --device {asked} is ignored"
        return None

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
