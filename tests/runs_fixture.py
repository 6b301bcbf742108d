"""A small run folder made through the real CLI, for the plot and report tests (not a test module)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

TESTS = Path(__file__).resolve().parent


def cli(*args, check=True, **env):
    full_env = {**os.environ, "PYTHONPATH": str(TESTS), "DBDBENCH_EXTRA_PLUGINS": "plugin_fixtures", **env}
    proc = subprocess.run(
        [sys.executable, "-m", "dbdbench.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"dbdbench {' '.join(map(str, args))}: exit {proc.returncode}: {proc.stderr}")
    return proc


def make_runs(root: Path, n: int = 6) -> Path:
    """Photos with a sharp textured part and a blurred part (GT in-focus white); two method rows:
    ``test-contrast`` and ``test-contrast@window=3``. Returns the runs folder."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    images, gts = root / "images", root / "gt"
    images.mkdir(parents=True), gts.mkdir(parents=True)
    for i in range(n):
        tex = rng.random((60, 80, 3)) * 255
        blurred = ndimage.gaussian_filter(tex, (2 + i % 3, 2 + i % 3, 0))
        mask = np.zeros((60, 80), bool)
        mask[:, : 20 + 8 * i] = True
        img = np.where(mask[..., None], tex, blurred).astype(np.uint8)
        Image.fromarray(img).save(images / f"img {i}.png")
        Image.fromarray((mask * 255).astype(np.uint8)).save(gts / f"img {i}.png")
    runs = root / "runs"
    for extra in ((), ("--option", "window=3")):
        cli(
            "run",
            "--method",
            "test-contrast",
            "--images",
            images,
            "--gt",
            gts,
            "--gt-polarity",
            "focus",
            "--out",
            runs,
            *extra,
        )
    return runs
