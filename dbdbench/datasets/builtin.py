"""Registers the built-in real-dataset adapters through the public hook, like any plugin."""

from ..hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    from .real import BUILTIN_DATASETS

    for cls in BUILTIN_DATASETS:
        register(cls)
