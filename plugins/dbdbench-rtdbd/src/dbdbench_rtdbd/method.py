"""The ``rtdbd`` method: Zhang & Yan, "Rethinking the Defocus Blur Detection Problem and A Real-Time Deep
DBD Model" (ECCV 2020), reimplemented (no public code exists). Importing this module does not import torch."""

from __future__ import annotations

from dbdbench_torch.inference import TorchMethod


class RTDBD(TorchMethod):
    id = "rtdbd"
    name = "Real-time DBD U-Net with gradient encoder (Zhang & Yan)"
    paper = "Zhang & Yan, Rethinking the Defocus Blur Detection Problem and A Real-Time Deep DBD Model, ECCV 2020"
    year = 2020
    description = (
        "Modified U-Net with a parallel image-gradient encoder; patch-swap self-supervision and saliency hard mining"
    )
    variants = (
        "lite",
        "full",
        "nograd",
        "lite-nograd",
        "lite-wide",
        "lite-fine",
        "lite-plain",
    )
    training_data = "synth train (n=2000, 384 px; no real photos)"

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
