"""Errors a user can act on.

Anything raised as a :class:`DbdbenchError` is printed by the CLI as one line
(no traceback) and ends the command with a non-zero exit code. Everything else
is a bug in dbdbench or a plugin and is reported as such.
"""

from __future__ import annotations

from pathlib import Path


class DbdbenchError(Exception):
    """A problem with the user's inputs or configuration, described in one line."""

    exit_code = 2


class InputError(DbdbenchError):
    """A specific file (image, ground truth, map, list) is missing or unusable."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class MethodError(DbdbenchError):
    """A method failed, or returned something that breaks the method contract, on one image."""

    def __init__(self, method_id: str, stem: str, problem: str):
        self.method_id = method_id
        self.stem = stem
        self.problem = problem
        super().__init__(f"method {method_id!r} on image {stem!r}: {problem}")


class PluginError(DbdbenchError):
    """A plugin could not be loaded or registered something invalid."""


class DatasetError(DbdbenchError):
    """A dataset root is missing or does not have the expected layout."""
