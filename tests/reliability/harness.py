"""What the reliability cases share: calls two at a time, and reading back what a run left on disk."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image


def two_at_a_time(cli, calls: list[tuple], **kwargs) -> list:
    """Run independent command lines two at a time (the suite's 2-core budget), results in order."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda args: cli(*args, **kwargs), calls))


def folder_run(parent: Path) -> Path:
    """The run folder of the one folder dataset under a method's folder (named ``folder@<hash>``)."""
    found = sorted(parent.glob("folder*"))
    assert len(found) == 1, found
    return found[0]


def maps_of(run_root: Path, method: str) -> Path:
    return folder_run(run_root / method) / "maps"


def valid_pngs(folder: Path) -> dict[str, np.ndarray]:
    """Every map of ``folder`` by stem, decoded (a torn file fails here)."""
    out = {}
    for p in sorted(folder.glob("*.png")):
        with Image.open(p) as im:
            im.load()
            out[p.stem] = np.asarray(im)
    return out


def read_per_image(path: Path) -> dict[str, dict]:
    """per_image.csv by stem, without the timing column (which differs from run to run)."""
    with open(path, newline="") as fh:
        return {row["stem"]: {k: v for k, v in row.items() if k != "predict_s"} for row in csv.DictReader(fh)}


def same_scores(result: dict, run_dir: Path, ref: dict) -> None:
    """``result`` and the run folder hold exactly the reference run's numbers, rows and maps."""
    assert result["n_images"] == ref["result"]["n_images"]
    assert result["metrics"] == ref["result"]["metrics"]
    assert result["curves"] == ref["result"]["curves"]
    assert read_per_image(run_dir / "per_image.csv") == ref["per_image"]
    maps = valid_pngs(run_dir / "maps")
    assert maps.keys() == ref["maps"].keys()
    for stem, arr in maps.items():
        assert np.array_equal(arr, ref["maps"][stem]), stem
