"""dbdbench entry point of ``rtdbd``: registers the method and its trainer through the public hooks.

Cheap to import: the method class needs no torch until it predicts, and the trainer module is imported
only when ``dbdbench train --method rtdbd`` runs.
"""

from __future__ import annotations

from dbdbench import hookimpl


def _train(request):
    from .train import train

    return train(request)


@hookimpl
def register_methods(register):
    from .method import RTDBD

    register(RTDBD)


@hookimpl
def register_trainers(register):
    register("rtdbd", _train)
