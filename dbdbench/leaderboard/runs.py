"""Run folders (``RUNS_DIR/<method>/<dataset>/result*.json``) as groups of rows, for the figures and the report.

The files are read by the leaderboard's reader (:func:`.collect.read_records`) and rows are named as in the
leaderboard (:func:`.collect.row_id`), so a result that a table leaves out for a problem is left out of the
figures for the same problem, in the same words. What this adds is where a row's maps and per-image table are,
and groups of rows that can share a figure.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DbdbenchError
from ..metric_table import METRICS, RANKING_METRIC
from ..wording import images_of
from .collect import Problem, Row, read_records, row_id

#: The variant part of ``result.<variant>.json`` / ``per_image.<variant>.csv``.
RESULT_NAME = re.compile(r"^result(?P<variant>(\.[^/]+)?)\.json$")
#: What a map may be saved as, in the order a stem's files are tried.
MAP_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


@dataclass
class RunEntry(Row):
    """A row of a run folder: also where its maps and per-image table are."""

    @property
    def variant(self) -> str:
        m = RESULT_NAME.match(self.path.name)
        return m.group("variant") if m else ""

    @property
    def per_image_path(self) -> Path:
        return self.path.parent / f"per_image{self.variant}.csv"

    @property
    def maps_dir(self) -> Path:
        """The run folder's own ``maps/`` (``run``'s cache, also found after the folder moved), else where the result
        says its maps are (``score --maps DIR --out ...``)."""
        local = self.path.parent / "maps"
        recorded = self.result.method.get("maps")
        if local.is_dir() or not recorded:
            return local
        return Path(recorded)

    @property
    def map_suffix(self) -> str:
        return self.result.method.get("map_suffix") or ""

    @property
    def map_polarity(self) -> str:
        return self.result.method.get("map_polarity") or "focus"

    def map_path(self, stem: str) -> Path | None:
        for ext in MAP_EXTENSIONS:
            candidate = self.maps_dir / f"{stem}{self.map_suffix}{ext}"
            if candidate.is_file():
                return candidate
        return None

    def per_image(self) -> list[dict[str, Any]]:
        """The per-image table as dicts (numbers as floats, None where not finite); empty when the CSV is missing."""
        try:
            with open(self.per_image_path, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except OSError:
            return []
        return [{key: value if key == "stem" else _number(value) for key, value in row.items()} for row in rows]


def _number(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass
class Group:
    """Results that can share a figure: same dataset, split, protocol and scored file list."""

    dataset: str
    split: str | None
    protocol: str
    file_list_hash: str | None
    slug: str = ""
    entries: list[RunEntry] = field(default_factory=list)

    @property
    def title(self) -> str:
        # "20 of 200 images" when partial (a --limit run, a partial copy of a release)
        count = images_of(self.dataset_record, self.entries[0].result.n_images) if self.entries else "? images"
        return f"{self.dataset} ({self.split}), protocol {self.protocol}, {count}"

    @property
    def dataset_record(self) -> dict[str, Any]:
        return self.entries[0].result.dataset


def dataset_names(dataset: str | Iterable[str] | None) -> list[str]:
    """``--dataset`` as given: one name, several (repeated), or none (all datasets)."""
    if dataset is None:
        return []
    return [dataset] if isinstance(dataset, str) else [d for d in dataset if d]


def no_results_message(runs_dir: str | Path, dataset: str | Iterable[str] | None) -> str:
    names = dataset_names(dataset)
    what = f" for dataset {' or '.join(repr(n) for n in names)}" if names else ""
    return (
        f"{runs_dir}: no result*.json{what} under <method>/<dataset>/ (run 'dbdbench run ... --out {runs_dir}' first)"
    )


def collect_groups(
    runs_dir: str | Path, *, dataset: str | Iterable[str] | None = None, methods: Iterable[str] | None = None
) -> tuple[list[Group], list[Problem]]:
    """Every ``RUNS_DIR/<method-dir>/<dataset-dir>/result*.json``, grouped for figures.

    Rows are named as in the leaderboard (the method folder such as ``lbp@refine=true`` for ``run`` results, the
    ``--name`` of ``score`` results); ``methods`` keeps only rows whose name or method id is listed (a name that
    matches nothing is an error listing the rows there are); ``dataset`` keeps one dataset or several, named in any
    case. Returns the groups (rows best first by the ranking metric) and the files left out with the reason.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise DbdbenchError(f"{runs_dir}: not a folder (expected RUNS_DIR/<method>/<dataset>/result*.json)")
    files = [p for p in sorted(runs_dir.glob("*/*/result*.json")) if RESULT_NAME.match(p.name)]
    results, _timings, problems = read_records(files)
    wanted = {m for m in (methods or []) if m}
    datasets = {d.lower() for d in dataset_names(dataset)}
    seen: set[str] = set()  # rows and method ids on the chosen datasets, to name what a --method could have been
    matched: set[str] = set()
    groups: dict[tuple, Group] = {}
    for path, result in results:
        ds = result.dataset
        if datasets and str(ds.get("name")).lower() not in datasets:
            continue
        row = row_id(result, path)
        names = {row, str(result.method.get("id"))}
        seen |= names
        if wanted and not names & wanted:
            continue
        matched |= names & wanted
        key = (ds["name"], ds.get("split"), result.protocol_name, ds.get("file_list_hash"))
        group = groups.setdefault(key, Group(*key))
        group.entries.append(RunEntry(row=row, result=result, path=path))
    unknown = sorted(wanted - matched)
    if unknown and seen:
        raise DbdbenchError(
            f"--method {unknown[0]}: no result of that name in {runs_dir} (there are: {', '.join(sorted(seen))})"
        )
    out = sorted(
        groups.values(), key=lambda g: (g.dataset, g.split or "", g.protocol, -len(g.entries), g.file_list_hash or "")
    )
    used: set[str] = set()
    for group in out:
        _order_rows(group)
        group.slug = _slug(group, used)
    return out, problems


def _order_rows(group: Group) -> None:
    """Best first by the ranking metric; one row name twice (the same ``--name`` scored in two folders) is told
    apart by its folder."""
    sign = -1.0 if METRICS[RANKING_METRIC].better == "higher" else 1.0
    group.entries.sort(key=lambda e: (sign * float(e.result.metrics.get(RANKING_METRIC) or 0.0), e.row))
    counts: dict[str, int] = {}
    for e in group.entries:
        counts[e.row] = counts.get(e.row, 0) + 1
    for e in group.entries:
        if counts[e.row] > 1:
            e.row = f"{e.row} ({e.path.parent.parent.name}{e.variant})"


def _slug(group: Group, used: set[str]) -> str:
    """The group's file-name part, unique among ``used`` (which it joins)."""
    variant = group.entries[0].variant
    slug = _safe(f"{group.dataset}{variant}") if variant else _safe(f"{group.dataset}-{group.split}-{group.protocol}")
    if slug in used:
        slug = f"{slug}-{(group.file_list_hash or 'x')[:8]}"
    used.add(slug)
    return slug


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=@+-]+", "_", text).strip("._") or "group"
