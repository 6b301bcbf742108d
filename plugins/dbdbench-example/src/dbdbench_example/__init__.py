"""dbdbench-example: a tiny, complete method plugin to copy (see README.md)."""

__version__ = "0.1.0"
