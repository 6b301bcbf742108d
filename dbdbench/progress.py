"""Progress of long phases deep inside the library, drawn by whichever front end is running.

Generating a synth split takes seconds (the 200-image test split) to minutes (the train split), and it happens
wherever a dataset is first listed: inside ``run``, inside a plugin's trainer, inside ``plot``. Those places
cannot each draw a progress bar, and the library must not print on its own (notebooks, scripts). So the library
announces a phase here, and the command line installs a :data:`Reporter` that draws it (a rich bar on a terminal,
one line otherwise). With no reporter installed a phase is silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

#: ``reporter(description, total)``: a context manager yielding ``advance(n=1)``. ``description`` says what is
#: being made and where it goes, e.g. "generating synth split 'test' (200 images) into ~/.cache/...".
Reporter = Callable[[str, int], AbstractContextManager[Callable[..., None]]]

_reporter: Reporter | None = None


def install(reporter: Reporter | None) -> Reporter | None:
    """Make ``reporter`` draw every phase from now on (None: silent); returns the previous one."""
    global _reporter
    previous, _reporter = _reporter, reporter
    return previous


@contextmanager
def phase(description: str, total: int) -> Iterator[Callable[..., None]]:
    """Announce a phase of ``total`` steps; yields ``advance(n=1)``, to call as steps finish."""
    if _reporter is None:
        yield lambda n=1: None
        return
    with _reporter(description, total) as advance:
        yield advance
