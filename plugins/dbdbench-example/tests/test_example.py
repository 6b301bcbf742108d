"""Tests to copy with the plugin: the method contract, the behaviour, and a run through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dbdbench_example.method import LocalContrast
from PIL import Image
from scipy import ndimage

from dbdbench.methods import check_prediction


@pytest.fixture(scope="module")
def half_blurred():
    """A 96 x 128 photo: sharp texture on the left, the same texture blurred on the right; GT in-focus white."""
    rng = np.random.default_rng(0)
    tex = rng.random((96, 128, 3)) * 255
    img = tex.copy()
    img[:, 64:] = ndimage.gaussian_filter(tex, (3, 3, 0))[:, 64:]
    gt = np.zeros((96, 128), np.uint8)
    gt[:, :64] = 255
    return img.astype(np.uint8), gt


def test_output_honours_the_method_contract(half_blurred):
    image, _ = half_blurred
    pred = LocalContrast().predict(image)
    checked = check_prediction("example", "half", image, pred)  # what the harness runs on every output
    assert checked.shape == image.shape[:2] and checked.dtype == np.float32
    assert checked.min() >= 0.0 and checked.max() <= 1.0


def test_sharp_half_scores_higher(half_blurred):
    image, _ = half_blurred
    pred = LocalContrast().predict(image)
    assert pred[:, 8:56].mean() > 2 * pred[:, 72:120].mean()


def test_options_arrive_converted_in_self_config():
    method = LocalContrast(window="7", percentile="95")  # as from --option window=7 percentile=95
    assert method.config == {"window": 7, "percentile": 95.0}
    flat = np.full((20, 30, 3), 128, np.uint8)
    assert not method.predict(flat).any()


def test_runs_through_the_cli(half_blurred, tmp_path):
    image, gt = half_blurred
    (tmp_path / "images").mkdir(), (tmp_path / "gt").mkdir()
    for i in range(3):
        Image.fromarray(np.roll(image, 10 * i, axis=0)).save(tmp_path / "images" / f"photo{i}.png")
        Image.fromarray(np.roll(gt, 10 * i, axis=0)).save(tmp_path / "gt" / f"photo{i}.png")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbdbench.cli",
            "run",
            "--method",
            "example",
            "--option",
            "window=9",
            "--images",
            str(tmp_path / "images"),
            "--gt",
            str(tmp_path / "gt"),
            "--gt-polarity",
            "focus",
            "--out",
            str(tmp_path / "runs"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["method"]["id"] == "example" and result["method"]["plugin"] == "example"
    assert result["method"]["options"]["window"] == 9
    assert result["metrics"]["f_max"] > 0.8
    maps = Path(result["method"]["maps"])  # runs/example@window=9/<dataset folder>/maps
    assert maps.parts[-3] == "example@window=9" and (maps / "photo0.png").is_file()
