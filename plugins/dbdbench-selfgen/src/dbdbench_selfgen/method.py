"""The ``selfgen`` method: the generator G of Zhao, Shang & Lu (CVPR 2021), trained with no pixel-level mask.

Only G is needed for inference; the discriminators and the classifier exist only in training. Importing
this module does not import torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from dbdbench_torch.inference import TorchMethod
from dbdbench_torch.packaged import PackagedWeights


class SelfGen(TorchMethod):
    id: ClassVar[str] = "selfgen"
    name: ClassVar[str] = "Self-generated DBD with dual adversarial discriminators (Zhao, Shang & Lu)"
    paper: ClassVar[str] = (
        "Zhao, Shang & Lu, Self-generated Defocus Blur Detection via Dual Adversarial Discriminators, CVPR 2021"
    )
    year: ClassVar[int | None] = 2021
    description: ClassVar[str] = (
        "VGG16-BN U-Net generator trained without masks: its mask must paste the sharp part of a photo "
        "into a full-clear image and the blurred part into a full-blurred one unnoticed by two discriminators"
    )
    variants: ClassVar[tuple[str, ...]] = ("lite", "full")
    stride: ClassVar[int] = 16
    training_data: ClassVar[str] = "synth train photos (n=2000, 384 px) + synth fc/fb, no masks read"
    version: ClassVar[str] = "1"
    options: ClassVar[dict[str, Any]] = dict(TorchMethod.options)
    #: What this plugin ships: ``weights/packaged.json`` (``weights/MODEL_CARD.md`` tells how each was trained).
    packaged: ClassVar[PackagedWeights | None] = PackagedWeights.from_manifest(
        Path(__file__).resolve().parent / "weights"
    )

    def build_model(self, variant: str):
        from .model import build_generator

        return build_generator(variant)
