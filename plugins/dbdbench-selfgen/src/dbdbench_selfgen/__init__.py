"""dbdbench plugin ``selfgen``: Zhao, Shang & Lu, "Self-generated Defocus Blur Detection via Dual Adversarial
Discriminators" (CVPR 2021), trained without any pixel-level mask."""

__version__ = "0.1.0"
