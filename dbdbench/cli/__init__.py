"""The ``dbdbench`` command line: thin click commands over :mod:`dbdbench.api`, one module per command group."""

from . import compare, info, latency, leaderboard, plot, report, score_run, train  # noqa: F401 - importing a command module attaches its commands
from .app import cli, main

__all__ = ["cli", "main"]
