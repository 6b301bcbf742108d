"""Handcrafted defocus-blur-detection baselines for dbdbench.

Methods (ids): ``gradient``, ``laplacian``, ``dct``, ``hifst``, ``lbp``, ``svd``.
Every method maps an ``H x W x 3`` uint8 RGB photo to an ``H x W`` float32 map
in [0, 1] with 1 = in focus. The plugin entry point is :mod:`dbdbench_baselines.plugin`.
"""

__version__ = "0.1.0"
