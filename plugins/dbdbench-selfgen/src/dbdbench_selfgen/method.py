"""The ``selfgen`` method: the generator G of Zhao, Shang & Lu (CVPR 2021), trained with no pixel-level mask.

Only G is needed for inference; the discriminators and the classifier exist only in training. Importing
this module does not import torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from dbdbench_torch.inference import TorchMethod
from dbdbench_torch.packaged import PackagedWeights, Shipped

#: What this plugin ships (``weights/MODEL_CARD.md`` tells how each file was trained and what it scores).
#: ``<variant>-classifier`` is stage 1's frozen V, shipped so that stage 2 can be rerun alone.
PACKAGED = PackagedWeights(
    Path(__file__).resolve().parent / "weights",
    {
        "lite": Shipped(
            "lite.safetensors",
            "3c27ae9a18791d0dc624738c9358b4af595034f8dea04f5bc0668737fdc134d6",
            {"what": "generator G, run 4 of the model card"},
        ),
        "lite-classifier": Shipped(
            "lite-classifier.safetensors",
            "2484a9f0ceec88f0787bc6bfa9155f8b1592bd5b0ac386e80dc63774290853cb",
            {"what": "classifier V (issue 24: 12-24-48-96-192, 192-d feature), stage 1 step 600"},
        ),
    },
)


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
    packaged: ClassVar[PackagedWeights | None] = PACKAGED

    def build_model(self, variant: str):
        from .model import build_generator

        return build_generator(variant)
