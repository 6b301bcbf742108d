"""dbdbench entry point of the handcrafted baselines.

Importing this module is cheap: method modules are imported here (they only
need numpy/scipy at import time); heavier libraries (scikit-image rank
filters, pymatting, threadpoolctl) are imported inside ``predict``.
"""

from __future__ import annotations

from dbdbench import hookimpl


def method_classes():
    from .dct import DCTRatio
    from .gradient import GradientEnergy
    from .hifst import HiFST
    from .laplacian import LaplacianVariance
    from .lbp import LBPSharpness
    from .svd import SVDRatio

    return [GradientEnergy, LaplacianVariance, DCTRatio, HiFST, LBPSharpness, SVDRatio]


@hookimpl
def register_methods(register):
    for cls in method_classes():
        register(cls)
