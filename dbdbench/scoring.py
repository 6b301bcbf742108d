"""Score maps against ground truth: read pairs (threaded, in order, bounded), prepare, evaluate.

Decoding PNGs dominates scoring time, and Pillow releases the GIL while it
decodes, so a small thread pool reads the next pairs while the current one is
scored. At most ``2 * workers`` pairs are in flight, so memory stays flat for
any dataset size; results are consumed in sorted-stem order, so the numbers do
not depend on the number of workers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DbdbenchError, InputError
from .io import read_array, read_gray
from .metrics import Evaluator, prepare
from .polarity import MapPolarityCheck
from .protocols import Protocol


@dataclass(frozen=True)
class ScoreItem:
    stem: str
    map_path: Path
    gt_path: Path
    coc_path: Path | None = None


def _load(item: ScoreItem) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    gt = read_gray(item.gt_path)
    m = read_gray(item.map_path)
    coc = read_array(item.coc_path) if item.coc_path is not None else None
    return m, gt, coc


def _ordered_reads(items: list[ScoreItem], workers: int) -> Iterator[tuple[ScoreItem, tuple]]:
    if workers <= 1:
        for item in items:
            yield item, _load(item)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        it = iter(items)
        for item in it:
            pending.append((item, pool.submit(_load, item)))
            if len(pending) >= 2 * workers:
                break
        while pending:
            item, fut = pending.popleft()
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(_load, nxt)))
            yield item, fut.result()


def score_items(
    items: Iterable[ScoreItem],
    protocol: Protocol,
    *,
    gt_polarity: str,
    map_polarity: str = "focus",
    workers: int = 2,
    skip_bad: bool = False,
    on_progress: Callable[[int], None] | None = None,
    polarity: MapPolarityCheck | None = None,
) -> tuple[Evaluator, list[dict]]:
    """Score every item; return the evaluator (aggregates + per-image rows) and the skipped items.

    ``polarity`` (:mod:`dbdbench.polarity`) sees every scored pair too, to tell whether the maps look inverted.
    """
    items = list(items)
    evaluator = Evaluator(protocol)
    skipped: list[dict] = []
    reads = _ordered_reads(items, workers)
    while True:
        try:
            item, (m, gt, coc) = next(reads)
        except StopIteration:
            break
        except InputError as exc:
            if not skip_bad:
                raise
            failed = _index_of(items, exc.path)
            stem = items[failed].stem if failed is not None else Path(exc.path).stem
            skipped.append({"stem": stem, "file": str(exc.path), "reason": exc.problem})
            # the ordered reader died with the exception: restart it past the failed item
            reads = _ordered_reads(items[failed + 1 :] if failed is not None else [], workers)
            continue
        try:
            pair = prepare(m, gt, protocol, map_polarity=map_polarity, gt_polarity=gt_polarity)
        except DbdbenchError as exc:
            if not skip_bad:
                raise DbdbenchError(f"{item.map_path}: {exc}") from None
            skipped.append({"stem": item.stem, "file": str(item.map_path), "reason": str(exc)})
            continue
        if coc is not None and coc.shape != gt.shape:
            raise InputError(
                item.coc_path or item.map_path, f"CoC map shape {coc.shape} differs from GT shape {gt.shape}"
            )
        evaluator.step(item.stem, pair, coc)
        if polarity is not None:
            polarity.step(pair)
        if on_progress:
            on_progress(1)
    return evaluator, skipped


def _index_of(items: list[ScoreItem], path: Path) -> int | None:
    """Position of the item that reads ``path`` (its map, GT or CoC file)."""
    for i, item in enumerate(items):
        if path in (item.map_path, item.gt_path, item.coc_path):
            return i
    return None
