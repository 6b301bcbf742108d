"""Training curves of a run (``loss.csv``, ``val.csv``) as one PNG, with matplotlib's Agg backend.

A task declares its panels (:class:`Panel`: which ``loss.csv`` columns, smoothed by a moving mean); a last
panel always shows the validation metrics against the step.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Panel:
    """One panel of ``training.png``: ``loss.csv`` columns against the step."""

    title: str
    keys: tuple[str, ...]
    #: Fixed y range (e.g. (-0.05, 1.05) for fractions); None: automatic.
    ylim: tuple[float, float] | None = None
    #: A 0/1 column whose 1-steps are marked as red dots at y = 0 (e.g. ``collapse``); "" for none.
    flag: str = ""
    flag_label: str = ""
    #: Whether the title says the moving-mean window.
    says_window: bool = False


def _read(path: Path) -> dict[str, list[float]]:
    cols: dict[str, list[float]] = {}
    if not path.is_file():
        return cols
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            for k, v in row.items():
                try:
                    cols.setdefault(k, []).append(float(v))
                except (TypeError, ValueError):
                    cols.setdefault(k, []).append(float("nan"))
    return cols


def _smooth(values: list[float], window: int) -> list[float]:
    import numpy as np

    a = np.asarray(values, dtype=float)
    if len(a) < window or window < 2:
        return list(a)
    kernel = np.ones(window) / window
    head = [float(a[: i + 1].mean()) for i in range(window - 1)]
    return head + list(np.convolve(a, kernel, mode="valid"))


def plot_training(folder: Path, panels: tuple[Panel, ...], out: Path | None = None) -> Path:
    """``panels`` of ``loss.csv`` columns, then the validation metrics, against the step; ``training.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    log, val = _read(folder / "loss.csv"), _read(folder / "val.csv")
    out = Path(out) if out else folder / "training.png"
    steps = log.get("step", [])
    window = max(1, len(steps) // 100)
    n = len(panels) + 1
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 3.8))
    for ax, panel in zip(axes, panels):
        for key in panel.keys:
            if key in log:
                ax.plot(steps, _smooth(log[key], window), label=key, lw=1)
        if panel.flag and panel.flag in log:
            flagged = [s for s, c in zip(steps, log[panel.flag]) if c > 0.5]
            if flagged:
                ax.scatter(flagged, [0.0] * len(flagged), s=4, c="red", label=panel.flag_label or panel.flag)
        if panel.ylim is not None:
            ax.set_ylim(*panel.ylim)
        ax.set_xlabel("step")
        ax.set_title(panel.title + (f" (moving mean of {window})" if panel.says_window and window > 1 else ""))
        ax.legend(fontsize=7)
    ax = axes[-1]
    vs = val.get("step", [])
    for key in ("f_max", "mae", "score", "accuracy"):
        if key in val:
            ax.plot(vs, val[key], marker="o", ms=3, label=key)
    ax.set_xlabel("step")
    ax.set_title("validation (synth)")
    if vs:
        ax.legend(fontsize=7)
    fig.suptitle(folder.name, fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
