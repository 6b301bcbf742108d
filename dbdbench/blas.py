"""One set of OpenBLAS kernels on every x86-64 machine, so float32 matrix products (and the maps and scores
made from them) do not change with the CPU generation.

Why: numpy's and scipy's OpenBLAS choose their kernels for the CPU they find (``DYNAMIC_ARCH``): the Haswell
kernels (also used for AMD Zen) on AVX2 machines, the SkylakeX kernels where AVX-512 exists. They sum in
different orders, so float32 products differ in their last bits. ``dct`` and ``hifst`` do their DCTs as
float32 products and write 8-bit maps: a few pixels in a million land on the other side of a rounding step
(103 of 20 million for ``dct`` on the synth test split, up to 17 626 of 102 400 in one ``hifst`` map, whose
local-entropy step quantises too), which moved their committed scores by about 1e-9 whenever a result was
made on a machine of another generation, and made ``make demo`` rewrite them. Setting
``OPENBLAS_CORETYPE=Haswell`` before numpy is first imported makes every x86-64 CPU with AVX2 and FMA use
the same kernels. On this project's AMD EPYC (AVX-512, shared and loaded) no speed difference stood out of
the noise: HiFST's DCT pass took 1.8 to 2.2 s per 320 x 320 image with either set (``OPENBLAS_CORETYPE`` set
each way, best of 3).

Not pinned: when ``OPENBLAS_CORETYPE`` is already set (the user's choice wins), when numpy is already
imported (too late: its OpenBLAS is loaded), on CPUs without AVX2 and FMA (the pinned kernels would not run)
and on other architectures. Every result records the kernels that ran (``environment.blas``, from
:func:`description`), so numbers from differently configured machines can be told apart.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

#: The kernel family pinned: AVX2 + FMA, what OpenBLAS also uses for AMD Zen.
CORETYPE = "Haswell"


def _has_avx2_fma() -> bool:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return {"avx2", "fma"} <= flags
    return False


def pin_kernels() -> bool:
    """Set ``OPENBLAS_CORETYPE`` for this process and its children when that still decides anything and the
    CPU runs the pinned kernels; returns whether it did."""
    if "OPENBLAS_CORETYPE" in os.environ or "numpy" in sys.modules:
        return False
    if platform.machine().lower() not in ("x86_64", "amd64") or not _has_avx2_fma():
        return False
    os.environ["OPENBLAS_CORETYPE"] = CORETYPE
    return True


def description() -> str | None:
    """The BLAS numpy uses and the kernels it picked, e.g. ``openblas 0.3.30 Haswell`` (None when unknown)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    import numpy as np  # noqa: F401 - make sure numpy's BLAS is loaded before asking

    blas = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    blas.sort(key=lambda lib: "numpy" not in str(lib.get("filepath", "")))  # numpy's own first
    if not blas:
        return None
    parts = [blas[0].get("internal_api"), blas[0].get("version"), blas[0].get("architecture")]
    return " ".join(str(p) for p in parts if p) or None
