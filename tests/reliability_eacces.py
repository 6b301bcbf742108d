"""Simulated "permission denied" for the reliability suite, for when tests run as root.

Root reads a ``chmod 000`` file anyway, so the real condition cannot be produced.
Loaded into a CLI subprocess as a plugin (``DBDBENCH_EXTRA_PLUGINS``), this
module makes ``open()`` raise the very ``PermissionError`` the kernel raises for
any path whose name contains ``NOPERM``; everything else is untouched.
"""

from __future__ import annotations

import builtins
import errno
import os

_real_open = builtins.open


def _open(file, *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)) and "NOPERM" in os.fsdecode(file):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(file))
    return _real_open(file, *args, **kwargs)


builtins.open = _open
