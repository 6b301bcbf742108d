"""Content hashes of files and of datasets, so identity follows bytes, never names or locations.

Two folders holding the same files hash the same wherever they lie; one changed byte changes the hash.
Digests are memoised per (path, size, mtime) within a process, because a run hashes every image twice:
once for the dataset identity and once to decide whether a cached map may be reused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path


def file_digest(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes."""
    st = os.stat(path)
    return _digest(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=65536)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def try_digest(path: str | Path | None) -> str:
    """:func:`file_digest`, or a marker for a missing or unreadable file (reading it later reports the problem
    with the file's name, where the user can act on it; the hash only has to differ from any real content)."""
    if path is None:
        return "-"
    try:
        return file_digest(path)
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def content_hash(entries: Iterable[tuple[str, Path | None, Path | None]]) -> str:
    """Short hash over (stem, image, GT) triples: stems and the bytes of every image and GT, in stem order."""
    h = hashlib.sha256()
    for stem, image, gt in sorted(entries, key=lambda e: e[0]):
        h.update(stem.encode("utf-8", errors="surrogateescape") + b"\0")
        h.update(try_digest(image).encode() + b"\0")
        h.update(try_digest(gt).encode() + b"\n")
    return h.hexdigest()[:16]


def short_hash(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogateescape")).hexdigest()[:n]
