"""Figures from run folders: PR curves, F-measure-vs-threshold curves and qualitative grids. Presentation only.

The curves are the two figures every DBD paper shows (Zhang & Yan, ECCV 2020, figs. 6-7; Zhao et al.,
CVPR 2021, fig. 6): precision against recall and F-measure against the 8-bit threshold 0..255, one
line per method, read straight from ``result*.json`` ``curves``. The qualitative grid is the figure
both papers show next to them: photo | GT | every method's map, for chosen images or for each
method's best, median and worst image by a per-image metric.

A method keeps one colour in every figure and in the HTML report (:func:`method_colours`), and
matplotlib is imported only here, inside the functions, with the Agg backend (no display needed).
The run folders are read and grouped by :mod:`dbdbench.leaderboard.runs`, the leaderboard's reader.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DbdbenchError
from .leaderboard.runs import Group, RunEntry, collect_groups, no_results_message
from .metric_table import RANKING_METRIC, direction
from .wording import plural

#: Line and label colours: matplotlib's tab10, then ten more that differ from all of those and from each other.
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
EXTRA = ("#000000", "#b8860b", "#1b1b7a", "#7f0000", "#00a087", "#c51b7d", "#66a61e", "#6a3d9a", "#a6cee3", "#fdbf6f")
PALETTE = TAB10 + EXTRA
#: Methods this project ships or reproduces keep the same colour whatever else is plotted with them.
PRESET_COLOURS = {
    "gradient": 0,
    "laplacian": 1,
    "dct": 2,
    "hifst": 3,
    "lbp": 4,
    "svd": 5,
    "rtdbd": 6,
    "selfgen": 9,
}


def method_colours(names: Iterable[str]) -> dict[str, str]:
    """A stable colour per method row name, the same in every figure and in the HTML report.

    Methods this project ships keep their preset colour, reserved even when they are absent, so no
    other method ever takes it. Any other name hashes to one of the remaining colours and keeps it in
    every report, unless another name in the same set hashed there first (names are processed in a
    fixed order, so the outcome never depends on the order they came in); then it takes the next free one.
    """
    names = sorted(set(names), key=lambda n: (n not in PRESET_COLOURS, n))
    reserved = set(PRESET_COLOURS.values())
    free = [i for i in range(len(PALETTE)) if i not in reserved]
    absent_presets = [slot for name, slot in PRESET_COLOURS.items() if name not in names]
    taken: set[int] = set()
    out: dict[str, str] = {}
    for i, name in enumerate(names):
        if name in PRESET_COLOURS:
            chosen = PRESET_COLOURS[name]
        else:
            start = int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16) % len(free)
            candidates = [free[(start + k) % len(free)] for k in range(len(free))] + absent_presets
            chosen = next((c for c in candidates if c not in taken), i % len(PALETTE))  # > 20 methods: repeat
        taken.add(chosen)
        out[name] = PALETTE[chosen]
    return out


# ------------------------------------------------------------------ images of a group


def locate_samples(record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Re-open the dataset a result was scored on, to find each stem's photo and GT.

    Returns ``({stem: Sample}, None)`` or ``({}, reason)`` when the dataset cannot be opened here
    (root moved, plugin missing): figures then show the maps without photo and GT.
    """
    from .api import open_dataset
    from .plugins import get_registry

    bookkeeping = {
        "name",
        "split",
        "root",
        "gt_polarity",
        "n_images",
        "file_list_hash",
        "n_listed",
        "n_available",
        "generator_version",
        "n_expected",
        "n_found",
        "partial",
    }
    options = {k: v for k, v in record.items() if k not in bookkeeping and v is not None}
    root = record.get("root")
    try:
        accepted = getattr(get_registry().dataset(record["name"]), "accepted_options", None)
        if accepted is not None:  # the adapter declares its options: pass back only those
            options = {k: v for k, v in options.items() if k in accepted}
        dataset = open_dataset(
            record["name"], root=root, split=record.get("split"), gt_polarity=record.get("gt_polarity"), options=options
        )
        listing = dataset.list()
    except Exception as exc:
        text = str(exc).strip().splitlines()
        return {}, f"dataset {record.get('name')!r} could not be re-opened ({text[0] if text else type(exc).__name__})"
    return {s.stem: s for s in listing.samples}, None


def load_photo(sample: Any, max_side: int | None = None) -> np.ndarray | None:
    from .io import read_rgb

    if sample is None or sample.image is None:
        return None
    try:
        return _shrink(read_rgb(sample.image), max_side)
    except Exception:
        return None


def load_gt(sample: Any, polarity: str, max_side: int | None = None) -> np.ndarray | None:
    """The GT as 8-bit, in-focus white whatever the dataset's polarity."""
    from .io import read_gray

    if sample is None:
        return None
    try:
        gt = np.asarray(read_gray(sample.gt), dtype=np.float64)
    except Exception:
        return None
    if polarity == "blur":
        gt = 255.0 - gt
    return _shrink(np.clip(np.rint(gt), 0, 255).astype(np.uint8), max_side)


def load_map(entry: RunEntry, stem: str, max_side: int | None = None) -> np.ndarray | None:
    """A method's map as 8-bit, in-focus white (maps scored with ``--map-polarity blur`` are inverted)."""
    from .io import read_gray

    path = entry.map_path(stem)
    if path is None:
        return None
    try:
        arr = np.asarray(read_gray(path), dtype=np.float64)
    except Exception:
        return None
    if entry.map_polarity == "blur":
        arr = 255.0 - arr
    return _shrink(np.clip(np.rint(arr), 0, 255).astype(np.uint8), max_side)


def _shrink(arr: np.ndarray, max_side: int | None) -> np.ndarray:
    if max_side is None or max(arr.shape[:2]) <= max_side:
        return arr
    from PIL import Image

    img = Image.fromarray(arr)
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(img)


def pick_images(group: Group, rank_by: str = RANKING_METRIC) -> list[tuple[str, str]]:
    """Each method's best, median and worst image by ``rank_by`` (direction from :mod:`dbdbench.metric_table`).

    Returns ``(stem, why)`` pairs without repeats, in method order; ``why`` names every pick of that stem.
    """
    try:
        better = direction(rank_by)
    except DbdbenchError as exc:  # a column the metric table does not list: its direction is unknown
        raise DbdbenchError(f"--rank-by {rank_by}: {exc}") from None
    if better is None:
        raise DbdbenchError(f"--rank-by {rank_by}: not a metric with a better direction")
    picks: dict[str, list[str]] = {}
    for entry in group.entries:
        rows = [r for r in entry.per_image() if r.get(rank_by) is not None]
        if not rows:
            if entry.per_image() and rank_by not in entry.per_image()[0]:
                columns = ", ".join(k for k in entry.per_image()[0] if k != "stem")
                raise DbdbenchError(
                    f"--rank-by {rank_by}: {entry.per_image_path} has no such column (columns: {columns})"
                )
            continue
        rows.sort(key=lambda r: (r[rank_by], r["stem"]), reverse=(better == "higher"))
        chosen = (("best", rows[0]), ("median", rows[(len(rows) - 1) // 2]), ("worst", rows[-1]))
        for label, row in chosen:
            picks.setdefault(row["stem"], []).append(f"{label} {entry.row} ({rank_by} {row[rank_by]:.3f})")
    return [(stem, "; ".join(why)) for stem, why in picks.items()]


# ------------------------------------------------------------------ figures


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.hashsalt": "dbdbench",  # stable SVG ids: the same runs give byte-identical figures
            "svg.fonttype": "none",
            "font.size": 10,
            "axes.titlesize": 10,
            "legend.fontsize": 8,
        }
    )
    return plt


def _save(fig, base: Path, formats: Iterable[str], dpi: int = 150) -> list[Path]:
    written = []
    base.parent.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = base.with_name(f"{base.name}.{fmt}")
        # No date (stable files) and no creator block or DOCTYPE: the SVG names no URL but its XML namespaces.
        metadata = dict.fromkeys(("Date", "Creator", "Format", "Type")) if fmt == "svg" else {}
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)
        if fmt == "svg":
            text = tmp.read_text(encoding="utf-8")
            tmp.write_text(re.sub(r"<!DOCTYPE svg[^>]*>\n?", "", text, count=1), encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written


def plot_curves(
    group: Group, colours: dict[str, str], out_dir: str | Path, formats: Iterable[str] = ("png", "svg")
) -> list[Path]:
    """``<slug>_pr`` (precision against recall) and ``<slug>_f`` (F-measure against threshold), each per format."""
    plt = _pyplot()
    out_dir = Path(out_dir)
    formats = tuple(formats)
    beta2 = group.entries[0].result.protocol.get("beta2", 0.3)
    written: list[Path] = []

    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    for entry in group.entries:
        c = entry.result.curves
        if not c.get("precision") or not c.get("recall"):
            continue
        ax.plot(
            c["recall"],
            c["precision"],
            color=colours[entry.row],
            lw=1.8,
            label=f"{entry.row} (F$_{{max}}$ {entry.result.metrics['f_max']:.3f})",
        )
    ax.set(xlabel="Recall", ylabel="Precision", xlim=(0, 1), ylim=(0, 1.02), title=f"Precision-recall\n{group.title}")
    ax.grid(True, alpha=0.3)
    _legend_outside(ax)
    written += _save(fig, out_dir / f"{group.slug}_pr", formats)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    for entry in group.entries:
        c = entry.result.curves
        if not c.get("f"):
            continue
        thresholds = c.get("threshold") or list(range(len(c["f"])))
        ax.plot(
            thresholds,
            c["f"],
            color=colours[entry.row],
            lw=1.8,
            label=f"{entry.row} (F$_{{max}}$ {entry.result.metrics['f_max']:.3f})",
        )
    ax.set(
        xlabel="Threshold (8-bit map value)",
        ylabel=f"F-measure ($\\beta^2$ = {beta2:g})",
        xlim=(0, 255),
        ylim=(0, 1.02),
        title=f"F-measure by threshold\n{group.title}",
    )
    ax.set_xticks([0, 32, 64, 96, 128, 160, 192, 224, 255])
    ax.grid(True, alpha=0.3)
    _legend_outside(ax)
    written += _save(fig, out_dir / f"{group.slug}_f", formats)
    plt.close(fig)
    return written


def _legend_outside(ax) -> None:
    """The legend right of the axes, top-aligned: with eight methods, any place inside covers some curve
    (the PR curves fill every corner). ``_save`` crops to a tight box, so the figure grows to hold it."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)


def plot_qualitative(
    group: Group,
    colours: dict[str, str],
    out_dir: str | Path,
    *,
    stems: list[str] | None = None,
    rank_by: str = RANKING_METRIC,
    samples: dict[str, Any] | None = None,
    max_side: int = 240,
    formats: Iterable[str] = ("png",),
) -> tuple[list[Path], list[str]]:
    """``<slug>_qualitative``: one row per image, columns photo | GT | each method's map (best method first).

    ``stems`` chooses the images; otherwise each method's best, median and worst by ``rank_by``.
    Returns the files written and warnings (images without photo/GT, unknown stems).
    """
    warnings: list[str] = []
    if samples is None:
        samples, reason = locate_samples(group.dataset_record)
        if reason:
            warnings.append(f"{reason}: the grid shows maps only")
    if stems:
        known = set(samples) | {s for e in group.entries for s in (r["stem"] for r in e.per_image())}
        unknown = [s for s in stems if s not in known]
        warnings += [f"--images {s}: not in {group.title}; left out of its grid" for s in unknown]
        rows = [(s, "") for s in stems if s not in unknown]
    else:
        rows = pick_images(group, rank_by)
    if not rows:
        return [], warnings + [f"{group.title}: no per-image table to pick images from"]

    values = {e.row: {r["stem"]: r for r in e.per_image()} for e in group.entries}
    plt = _pyplot()
    n_cols = 2 + len(group.entries)
    cell = 1.75
    title_in = 0.45  # inches kept free above the column headers (two lines each) for the figure's title
    height = cell * len(rows) * 0.95 + 0.6 + title_in
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(cell * n_cols + 1.2, height), squeeze=False)
    headers = ["Image", "GT (in focus\nwhite)"] + [_wrap_name(e.row) for e in group.entries]
    head_colours = ["black", "black"] + [colours[e.row] for e in group.entries]
    for r, (stem, why) in enumerate(rows):
        sample = samples.get(stem)
        cells = [
            load_photo(sample, max_side),
            load_gt(sample, group.dataset_record.get("gt_polarity", "focus"), max_side),
        ]
        cells += [load_map(e, stem, max_side) for e in group.entries]
        for c, arr in enumerate(cells):
            ax = axes[r][c]
            ax.set_xticks([]), ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if arr is None:
                ax.text(
                    0.5,
                    0.5,
                    "not available",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="grey",
                    transform=ax.transAxes,
                )
            elif arr.ndim == 3:
                ax.imshow(arr, interpolation="lanczos")
            else:
                ax.imshow(arr, cmap="gray", vmin=0, vmax=255, interpolation="lanczos")
            if r == 0:
                ax.set_title(headers[c], color=head_colours[c], fontsize=9, fontweight="bold")
            if c >= 2:
                value = values[group.entries[c - 2].row].get(stem, {}).get(rank_by)
                if value is not None:
                    ax.set_xlabel(f"{rank_by} {value:.3f}", fontsize=7, labelpad=1)
                for spine in ax.spines.values():
                    spine.set_visible(True)
                    spine.set_edgecolor(head_colours[c])
                    spine.set_linewidth(1.5)
        label = stem if not why else f"{stem}\n" + "\n".join(why.split("; "))
        axes[r][0].set_ylabel(label, fontsize=6.5, rotation=0, ha="right", va="center", labelpad=4)
    fig.suptitle(f"Qualitative comparison: {group.title}", fontsize=10, y=1 - 0.12 / height, va="top")
    fig.tight_layout(rect=(0, 0, 1, 1 - title_in / height))  # the headers stay below the title, whatever the rows
    written = _save(fig, Path(out_dir) / f"{group.slug}_qualitative", formats, dpi=110)
    plt.close(fig)
    missing = sum(1 for stem, _ in rows if stem not in samples)
    if missing and samples:
        warnings.append(f"{missing} of {plural(len(rows), 'image')} have no photo/GT in the re-opened dataset")
    return written, warnings


def _wrap_name(name: str, width: int = 16) -> str:
    """Column titles of the grid: long row names break before their options (``lbp\n@refine=true``)."""
    if len(name) <= width:
        return name
    head, at, tail = name.partition("@")
    if at:
        return head + "\n@" + "\n".join(tail[i : i + width] for i in range(0, len(tail), width))
    return "\n".join(name[i : i + width] for i in range(0, len(name), width))


def plot_runs(
    runs_dir: str | Path,
    out_dir: str | Path,
    *,
    dataset: str | Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    stems: list[str] | None = None,
    rank_by: str = RANKING_METRIC,
    qualitative: bool = True,
) -> tuple[list[Path], list[str]]:
    """Every figure for every group under ``runs_dir``: curves (PNG + SVG) and a qualitative grid (PNG)."""
    groups, problems = collect_groups(runs_dir, dataset=dataset, methods=methods)
    warnings = [f"{problem}; left out" for problem in problems]
    if not groups:
        raise DbdbenchError(no_results_message(runs_dir, dataset))
    colours = method_colours(e.row for g in groups for e in g.entries)
    written: list[Path] = []
    for group in groups:
        written += plot_curves(group, colours, out_dir)
        if qualitative:
            files, notes = plot_qualitative(group, colours, out_dir, stems=stems, rank_by=rank_by)
            written += files
            warnings += notes
    return written, warnings
