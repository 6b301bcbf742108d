"""Training curves of a selfgen run (``loss.csv``, ``val.csv``) as one PNG, with matplotlib's Agg backend."""

from __future__ import annotations

import csv
from pathlib import Path


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


def plot_training(folder: Path, out: Path | None = None) -> Path:
    """Losses, mask statistics (coverage, binariness, collapse) and validation metrics against the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    log, val = _read(folder / "loss.csv"), _read(folder / "val.csv")
    out = Path(out) if out else folder / "training.png"
    steps = log.get("step", [])
    window = max(1, len(steps) // 100)
    adversarial = "coverage" in log
    panels = 3 if adversarial else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 3.8))
    ax = axes[0]
    keys = (
        ("g_adv_c", "g_adv_b", "d_c", "d_b", "lb", "mask_bin_loss", "mask_cov_loss")
        if adversarial
        else ("loss", "accuracy")
    )
    for key in keys:
        if key in log:
            ax.plot(steps, _smooth(log[key], window), label=key, lw=1)
    ax.set_xlabel("step")
    ax.set_title("losses" + (f" (moving mean of {window})" if window > 1 else ""))
    ax.legend(fontsize=7)
    if adversarial:
        ax = axes[1]
        for key in ("coverage", "binariness", "d_c_fake", "d_b_fake"):
            if key in log:
                ax.plot(steps, _smooth(log[key], window), label=key, lw=1)
        if "collapse" in log:
            flagged = [s for s, c in zip(steps, log["collapse"]) if c > 0.5]
            if flagged:
                ax.scatter(flagged, [0.0] * len(flagged), s=4, c="red", label="collapsed step")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("step")
        ax.set_title("masks: coverage, binariness; D(fake)")
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
