"""The ``selfgen`` method: the generator G of Zhao, Shang & Lu (CVPR 2021), trained with no pixel-level mask.

Only G is needed for inference; the discriminators and the classifier exist only in training. Importing
this module does not import torch.
"""

from __future__ import annotations

from dbdbench_torch.inference import TorchMethod


class SelfGen(TorchMethod):
    id = "selfgen"
    name = "Self-generated DBD with dual adversarial discriminators (Zhao, Shang & Lu)"
    paper = "Zhao, Shang & Lu, Self-generated Defocus Blur Detection via Dual Adversarial Discriminators, CVPR 2021"
    year = 2021
    description = (
        "VGG16-BN U-Net generator trained without masks: its mask must paste the sharp part of a photo "
        "into a full-clear image and the blurred part into a full-blurred one unnoticed by two discriminators"
    )
    variants = ("lite", "full")
    training_data = "synth train photos (n=2000, 384 px) + synth fc/fb, no masks read"

    def build_model(self, variant: str):
        from .model import build_generator

        return build_generator(variant)
