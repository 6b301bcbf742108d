"""Counted nouns, worded once: "1 image", "3 images", "5 of 500 images".

Messages, tables, figure titles and the report all say how many images a result covers; saying it in one
place keeps "1 images" out of every one of them, and keeps a partial run ("20 of 200 images", "5 of 500")
marked as such wherever its numbers appear.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 image``, ``2 images`` (``nouns`` for irregular plurals)."""
    return f"{n} {noun if n == 1 else (nouns or noun + 's')}"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def images_of(record: Mapping[str, Any], n: int | None = None) -> str:
    """How many images a result scored, out of how many there are, from its dataset record.

    ``n`` defaults to the record's ``n_images``. The total is the release's size (``n_expected``, a partial
    copy of a public dataset) or else the images the split held before ``--limit`` or ``--subset``
    (``n_available``); when neither differs from ``n``, the plain count: ``200 images``.
    """
    n = _int(record.get("n_images")) if n is None else n
    if n is None:
        return "? images"
    for key in ("n_expected", "n_available"):
        total = _int(record.get(key))
        if total is not None and total != n:
            return f"{n} of {total} images"
    return plural(n, "image")


def is_partial(record: Mapping[str, Any], n: int | None = None) -> bool:
    """True when :func:`images_of` would say "N of M"."""
    return " of " in images_of(record, n)
