"""The entry point named in pyproject.toml. Keep it cheap to import: ``dbdbench --help`` imports it."""

from __future__ import annotations

from dbdbench import hookimpl


@hookimpl
def register_methods(register):
    from .method import LocalContrast

    register(LocalContrast)
