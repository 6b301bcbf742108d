"""The ``rtdbd`` method: Zhang & Yan, "Rethinking the Defocus Blur Detection Problem and A Real-Time Deep
DBD Model" (ECCV 2020), reimplemented (no public code exists). Importing this module does not import torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from dbdbench_torch.inference import TorchMethod
from dbdbench_torch.packaged import PackagedWeights


class RTDBD(TorchMethod):
    id: ClassVar[str] = "rtdbd"
    name: ClassVar[str] = "Real-time DBD U-Net with gradient encoder (Zhang & Yan)"
    paper: ClassVar[str] = (
        "Zhang & Yan, Rethinking the Defocus Blur Detection Problem and A Real-Time Deep DBD Model, ECCV 2020"
    )
    year: ClassVar[int | None] = 2020
    description: ClassVar[str] = (
        "Modified U-Net with a parallel image-gradient encoder; patch-swap self-supervision and saliency hard mining"
    )
    variants: ClassVar[tuple[str, ...]] = (
        "lite",
        "full",
        "nograd",
        "lite-nograd",
        "lite-wide",
        "lite-fine",
        "lite-plain",
    )
    stride: ClassVar[int] = 16
    training_data: ClassVar[str] = "synth train (n=2000, 384 px; no real photos)"
    version: ClassVar[str] = "1"
    options: ClassVar[dict[str, Any]] = dict(TorchMethod.options)
    #: What this plugin ships: ``weights/packaged.json`` (``weights/MODEL_CARD.md`` tells how each was trained).
    packaged: ClassVar[PackagedWeights | None] = PackagedWeights.from_manifest(
        Path(__file__).resolve().parent / "weights"
    )

    def build_model(self, variant: str):
        from .model import build

        return build(variant)

    def model(self):
        if self._model is None:
            import torch

            from .model import fuse_for_inference

            model = super().model()
            if not self.device.startswith("cuda"):  # CPU: BN folded, channels-last (about 2x faster, same maps)
                self._model = fuse_for_inference(model).to(memory_format=torch.channels_last)
        return self._model
