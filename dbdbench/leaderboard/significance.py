"""``leaderboard --ci``: each value's interval, and which rows are not significantly different from a column's best.

Intervals are the ones each result recorded (``score``/``run --ci``). The mark needs a test of each row
against the best row of the column, at the best row's level:

* **paired** when both rows have per-image data (on the same images, as every row of a table is): the
  percentile bootstrap interval of their difference, both resampled with the same images, contains 0;
* **overlap** otherwise: the two recorded intervals overlap (a conservative rule: two overlapping 95%
  intervals can still differ significantly).

Rows whose displayed value equals the best's are bold already and get no mark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..metric_table import METRICS
from ..stats import (
    BootstrapSettings,
    PerImageData,
    PerImageDataError,
    distributions,
    interval,
    protocol_of,
    resamplings,
    settings_of,
)
from ..stats.paired import CompareError, Loaded, check_data
from .collect import AccuracyTable, Row


@dataclass
class TableStats:
    """What ``--ci`` adds to one accuracy table."""

    #: (row, metric) -> [lo, hi], from the row's ``ci`` record.
    intervals: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    #: (row, metric) -> True when not significantly different from the column's best, False when it is.
    tied: dict[tuple[str, str], bool] = field(default_factory=dict)
    #: Rows tested by the paired bootstrap / by overlapping intervals (at least one column each).
    paired: set[str] = field(default_factory=set)
    overlap: set[str] = field(default_factory=set)
    #: Distinct settings of the rows' ``ci`` records, and rows without one.
    settings: list[BootstrapSettings] = field(default_factory=list)
    without_ci: list[str] = field(default_factory=list)
    #: The settings of the paired tests.
    test_settings: BootstrapSettings | None = None


def _settings(row: Row) -> BootstrapSettings | None:
    ci = row.result.ci
    try:
        return settings_of(ci) if ci else None
    except (KeyError, TypeError, ValueError):
        return None


def table_stats(table: AccuracyTable, shown: dict[str, list[str]]) -> TableStats:
    """``shown``: each metric's displayed values (3 decimals) by row order, to leave bold rows unmarked."""
    out = TableStats()
    for r in table.rows:
        record = (r.result.ci or {}).get("metrics") or {}
        for m, iv in record.items():
            if isinstance(iv, (list, tuple)) and len(iv) == 2:
                out.intervals[(r.row, m)] = [float(iv[0]), float(iv[1])]
        s = _settings(r)
        if s is None:
            out.without_ci.append(r.row)
        elif s not in out.settings:
            out.settings.append(s)
    specs = resamplings(protocol_of(table.protocol))
    data: dict[str, PerImageData | None] = {}
    dists: dict[tuple[str, BootstrapSettings], dict[str, np.ndarray]] = {}

    def per_image(r: Row) -> PerImageData | None:
        """The row's per-image data, checked against its numbers; None without (usable) data."""
        if r.row not in data:
            data[r.row] = None
            if r.result.per_image_data:
                metrics = [m for m in r.metrics if m in specs]
                try:
                    loaded = Loaded(r.path, r.result, PerImageData.read(r.path.parent / r.result.per_image_data))
                    data[r.row] = check_data(loaded, specs, metrics)
                except (PerImageDataError, CompareError):
                    pass
        return data[r.row]

    def distribution(r: Row, d: PerImageData, settings: BootstrapSettings) -> dict[str, np.ndarray]:
        if (r.row, settings) not in dists:
            wanted = {m: specs[m] for m in r.metrics if m in specs}
            dists[(r.row, settings)] = distributions(wanted, d, settings.resamples, settings.seed)
        return dists[(r.row, settings)]

    for m in table.metrics:
        rows = [(j, r) for j, r in enumerate(table.rows) if isinstance(r.metrics.get(m), (int, float))]
        if len(rows) < 2:
            continue
        sign = 1.0 if METRICS[m].better == "higher" else -1.0
        jb, best = max(rows, key=lambda jr: (sign * float(jr[1].metrics[m]), -jr[0]))
        settings = _settings(best) or (out.settings[0] if out.settings else BootstrapSettings())
        out.test_settings = out.test_settings or settings
        for j, r in rows:
            if r is best or shown[m][j] == shown[m][jb]:
                continue
            d_best, d_row = per_image(best), per_image(r)
            if d_best is not None and d_row is not None and d_best.stems == d_row.stems and m in specs:
                diff = distribution(r, d_row, settings)[m] - distribution(best, d_best, settings)[m]
                lo, hi = interval(diff, settings)
                out.tied[(r.row, m)] = lo <= 0 <= hi
                out.paired.add(r.row)
            elif (r.row, m) in out.intervals and (best.row, m) in out.intervals:
                (lo_r, hi_r), (lo_b, hi_b) = out.intervals[(r.row, m)], out.intervals[(best.row, m)]
                out.tied[(r.row, m)] = not (hi_r < lo_b or lo_r > hi_b)
                out.overlap.add(r.row)
    return out


#: Marks a value not significantly different from its column's best.
TIED_MARK = "≈"


def _pct(level: float) -> str:
    return f"{level * 100:g}%"


def cell_text(stats: TableStats, row: str, metric: str, shown: str) -> str:
    """``0.713 [0.702, 0.724]``, plus the tie mark; the value alone where the row has no interval."""
    text = shown
    iv = stats.intervals.get((row, metric))
    if iv is not None and shown not in ("-", ""):
        text += f" [{iv[0]:.3f}, {iv[1]:.3f}]"
    if stats.tied.get((row, metric)):
        text += f" {TIED_MARK}"
    return text


def notes(stats: TableStats, rows: list[str]) -> list[str]:
    """What the intervals are and how the mark was decided, in words, below the table."""
    out = []
    if stats.settings:
        how = "; ".join(f"{_pct(s.level)}, {s.resamples} resamples, seed {s.seed}" for s in stats.settings)
        text = (
            "[lo, hi]: the confidence interval of each value, a percentile bootstrap over the table's images "
            f"({how}), as its result recorded it (`--ci`)."
        )
        if stats.without_ci:
            text += " No interval for " + ", ".join(f"`{r}`" for r in stats.without_ci) + " (scored without `--ci`)."
        out.append(text)
    else:
        out.append("No interval: no result of this table was scored with `--ci`.")
    if stats.tied and stats.test_settings is not None:
        pct = _pct(stats.test_settings.level)
        rules = []
        if stats.paired:
            rules.append(
                "the paired bootstrap interval of the difference contains 0 (both rows resampled with the same "
                f"images, from their per-image data; {stats.test_settings.resamples} resamples, seed "
                f"{stats.test_settings.seed})"
            )
        if stats.overlap:
            who = ", ".join(f"`{r}`" for r in rows if r in stats.overlap)
            rules.append(f"for {who} (no per-image data) the two intervals overlap")
        untested = [r for r in rows if not any(k[0] == r for k in stats.tied)]
        text = (
            f"{TIED_MARK} not significantly different from the column's best (bold) at the {pct} level: "
            + "; ".join(rules)
            + ". A value without the mark differs from the best significantly"
        )
        text += "." if not untested else ", except in rows that could not be tested (no interval, no per-image data)."
        out.append(text)
    return out
