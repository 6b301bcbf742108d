"""``TorchMethod``: the dbdbench method contract for a torch network, shared by every learned method.

Subclasses say how to build the network of a variant (their shipped weights are found through
``weights/packaged.json`` beside their module); this class
loads them lazily (torch is imported on the first prediction, never at plugin import), batches images
of one size, and either keeps the native resolution (padded to a multiple of the network's stride) or
resizes to a fixed square input, as papers often do.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dbdbench.errors import DbdbenchError
from dbdbench.methods import Method

from .packaged import PackagedWeights


class TorchMethod(Method):
    kind: ClassVar[str] = "learned"
    #: The network's total downsampling: native-resolution inputs are padded to a multiple of it.
    stride: ClassVar[int] = 16
    #: What the packaged weights were trained on (shown in the leaderboard's training-data column).
    training_data: ClassVar[str] = ""
    process_parallel: ClassVar[bool] = False  # batches on its device; torch's threads already use every core
    #: Variants that ship trained weights (others run only with --option weights=PATH, or random for timing).
    variants: ClassVar[tuple[str, ...]] = ("lite",)

    # Subclasses extend: options = {**TorchMethod.options, ...}
    options: ClassVar[dict[str, Any]] = {
        "variant": "lite",
        "weights": "",  # "": the packaged weights of the variant; a path; or "random" (untrained, timing only)
        "input_size": 0,  # 0: native resolution (padded to the stride); N: resize to N x N, predict, resize back
        "batch_size": 4,
    }

    def __init__(self, device: str = "cpu", **options: Any):
        super().__init__(device=device, **options)
        if self.config["variant"] not in self.variants:
            raise DbdbenchError(
                f"method {self.id!r}: unknown variant {self.config['variant']!r} (variants: {', '.join(self.variants)})"
            )
        if self.config["input_size"] < 0 or self.config["batch_size"] < 1:
            raise DbdbenchError(f"method {self.id!r}: input_size must be >= 0 and batch_size >= 1")
        self.batch_size = int(self.config["batch_size"])
        self._model = None
        self._weights_path, self._weights_sha = self._locate_weights()

    # ---------------------------------------------------------------- to implement

    #: The plugin's table of shipped weights (``dbdbench_torch.packaged``): by convention ``weights/packaged.json``
    #: beside the module that defines the method (read when the class is defined); None: nothing shipped.
    packaged: ClassVar[PackagedWeights | None] = None

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if "packaged" not in cls.__dict__:
            module = sys.modules.get(cls.__module__)
            where = getattr(module, "__file__", None)
            cls.packaged = PackagedWeights.from_manifest(Path(where).resolve().parent / "weights") if where else None

    def build_model(self, variant: str):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def packaged_weights(cls, variant: str) -> Path | None:
        """The weights file shipped inside the plugin for this variant, or None."""
        return cls.packaged.path(variant) if cls.packaged is not None else None

    # ---------------------------------------------------------------- weights

    def _locate_weights(self) -> tuple[Path | None, str | None]:
        given = self.config["weights"]
        if given == "random":
            return None, None
        path = Path(given).expanduser() if given else self.packaged_weights(self.config["variant"])
        if path is None or not path.is_file():
            if given:
                raise DbdbenchError(f"--option weights={given}: file not found")
            return None, None  # no trained weights for this variant: random, flagged in provenance
        from .weights import weights_digest

        digest = weights_digest(path)
        if self.packaged is not None:
            self.packaged.verify(path, digest)
        return path, digest

    @property
    def is_random(self) -> bool:
        return self._weights_path is None

    def provenance(self) -> dict[str, Any]:
        out = {
            "variant": self.config["variant"],
            "weights": str(self._weights_path) if self._weights_path else "random",
            "weights_sha256": self._weights_sha,
            "input_size": self.config["input_size"] or "native",
        }
        if self._weights_path is not None and not self.config["weights"] and self.training_data:
            out["training_data"] = self.training_data
        if self.is_random:
            out["warning"] = "untrained network with random weights: for timing only, not for accuracy"
        return out

    def model(self):
        """The network in eval mode on the device (built, and weights loaded, on first use)."""
        if self._model is None:
            import torch

            from .weights import load_weights

            torch.manual_seed(0)  # random-weight runs are reproducible too
            model = self.build_model(self.config["variant"])
            if self._weights_path is not None:
                load_weights(model, self._weights_path)
            self._model = model.to(self.device).eval()
        return self._model

    # ---------------------------------------------------------------- prediction

    def predict(self, image: np.ndarray) -> np.ndarray:
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Iterable[np.ndarray]) -> list[np.ndarray]:
        images = list(images)
        out: list[np.ndarray | None] = [None] * len(images)
        by_shape: dict[tuple, list[int]] = {}
        for i, im in enumerate(images):
            by_shape.setdefault(im.shape, []).append(i)
        for idx in by_shape.values():
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start : start + self.batch_size]
                for i, pred in zip(chunk, self._predict_same_size([images[i] for i in chunk])):
                    out[i] = pred
        return out  # type: ignore[return-value]

    def _predict_same_size(self, images: list[np.ndarray]) -> list[np.ndarray]:
        import torch

        from .data import to_tensor_batch

        model = self.model()
        h, w = images[0].shape[:2]
        x = to_tensor_batch(images).to(self.device)
        x, crop = self.prepare_input(x)
        with torch.inference_mode():
            y = model(x)
        y = self.restore_output(y, crop, (h, w))
        return list(y[:, 0].float().cpu().numpy())

    def prepare_input(self, x):
        """Resize to the fixed input size, or pad (reflect) to a multiple of the stride; returns (x, crop info)."""
        import torch.nn.functional as F

        size = int(self.config["input_size"])
        h, w = x.shape[-2:]
        if size:
            return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True), None
        ph, pw = (-h) % self.stride, (-w) % self.stride
        if ph or pw:
            mode = "reflect" if ph < h and pw < w else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        return x, (h, w)

    def restore_output(self, y, crop, shape):
        import torch.nn.functional as F

        if crop is None:
            return F.interpolate(y, size=shape, mode="bilinear", align_corners=False).clamp_(0, 1)
        return y[..., : crop[0], : crop[1]]

    def model_forward(self, height: int, width: int):
        import torch

        model = self.model()
        x = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0)).to(self.device)
        x, _ = self.prepare_input(x)
        cuda = self.device.startswith("cuda")

        def run():
            with torch.inference_mode():
                model(x)
            if cuda:
                torch.cuda.synchronize()

        return run
