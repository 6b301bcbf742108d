"""Leaderboards: accuracy tables per dataset/split/protocol and timing tables per device, from result files.

* :mod:`.collect` finds results (``runs/``, ``leaderboards/results/``) and ``bench`` timing records and groups them;
* :mod:`.render` writes Markdown, CSV, LaTeX or HTML, deterministically;
* :mod:`.store` writes the portable copies committed under ``leaderboards/results/``;
* :mod:`.check` verifies that a committed table is what its recorded command produces now.
"""

from .check import Spec, build, check
from .collect import Leaderboard, NoResultsError, collect, row_id
from .render import FORMATS, render
from .store import DEFAULT_DIR, save_result, save_timing

__all__ = [
    "DEFAULT_DIR",
    "FORMATS",
    "Leaderboard",
    "NoResultsError",
    "Spec",
    "build",
    "check",
    "collect",
    "render",
    "row_id",
    "save_result",
    "save_timing",
]
