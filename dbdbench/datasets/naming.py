"""When two folders' file names do not pair up (``1.jpg`` and ``1_gt.bmp``), say how they differ.

Photos, masks and maps are paired by stem. A release that names its masks ``<stem>_gt`` or its maps
``<stem>_HiFSTBlurMap`` pairs nothing until the suffix is given; these helpers find the suffix, so the error can
name the option and its value instead of only the first file that did not pair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def common_suffix(short: Iterable[str], long: Iterable[str]) -> str | None:
    """The suffix ``s`` such that most ``long`` names are a ``short`` name plus ``s`` (``1`` -> ``1_gt``), else None.

    Only a suffix shared by most of the ``long`` names counts, so one coincidence is not advice.
    """
    shorts = set(short)
    longs = sorted(set(long) - shorts)
    if not shorts or not longs:
        return None
    votes: Counter[str] = Counter()
    for name in longs:
        # the longest short name that starts this name: "10_gt" pairs with "10", not "1"
        base = max((name[:i] for i in range(1, len(name)) if name[:i] in shorts), key=len, default=None)
        if base is not None:
            votes[name[len(base) :]] += 1
    if not votes:
        return None
    suffix, count = votes.most_common(1)[0]
    return suffix if count * 2 > len(longs) else None


def examples(names: Iterable[str], n: int = 3) -> str:
    """``a.png, b.png, c.png`` (and how many more)."""
    names = sorted(names)
    text = ", ".join(names[:n])
    return text + (f" and {len(names) - n} more" if len(names) > n else "")
