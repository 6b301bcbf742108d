"""dbdbench: one harness for defocus blur detection (DBD) benchmarks.

The core package never imports torch: learned methods live in plugins and import
it lazily, so listing methods or scoring maps stays fast on any machine.
"""

__version__ = "0.1.0"

from .blas import pin_kernels

pin_kernels()  # before anything imports numpy: the same float32 BLAS results on every x86-64 CPU (see blas.py)

from .hookspecs import hookimpl  # noqa: E402

__all__ = ["__version__", "hookimpl"]
