"""dbdbench: one harness for defocus blur detection (DBD) benchmarks.

The core package never imports torch: learned methods live in plugins and import
it lazily, so listing methods or scoring maps stays fast on any machine.
"""

__version__ = "0.1.0"

from .hookspecs import hookimpl

__all__ = ["__version__", "hookimpl"]
