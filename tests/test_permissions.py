"""Files a lab can share: everything a run writes follows the umask, like any ordinary file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TESTS = Path(__file__).resolve().parent


def _run(args, umask, env):
    proc = subprocess.run(
        [sys.executable, "-m", "dbdbench.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        preexec_fn=lambda: os.umask(umask),
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def _everything_written(tmp_path, umask):
    rng = np.random.default_rng(0)
    images, gt = tmp_path / "images", tmp_path / "gt"
    images.mkdir(), gt.mkdir()
    for i in range(3):
        Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(images / f"im{i}.png")
        Image.fromarray(((rng.random((24, 32)) > 0.5) * 255).astype(np.uint8)).save(gt / f"im{i}.png")
    out = tmp_path / "out"
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS),
        "DBDBENCH_EXTRA_PLUGINS": "plugin_fixtures",
        "DBDBENCH_CACHE": str(out / "cache"),
    }
    _run(
        [
            "run",
            "--method",
            "test-contrast",
            "--images",
            images,
            "--gt",
            gt,
            "--gt-polarity",
            "focus",
            "--out",
            out / "runs",
        ],
        umask,
        env,
    )
    _run(
        [
            "run",
            "--method",
            "test-contrast",
            "--dataset",
            "synth",
            "--dataset-option",
            "n=2",
            "--dataset-option",
            "size=48",
            "--out",
            out / "runs",
        ],
        umask,
        env,
    )  # generates a synth split into the cache, maps, results
    _run(["score", "--maps", gt, "--gt", gt, "--gt-polarity", "focus", "--out", out / "scored"], umask, env)
    _run(["synth", "--out", out / "split", "--n", "2", "--size", "48"], umask, env)
    files = [p for p in out.rglob("*") if p.is_file()]
    dirs = [p for p in out.rglob("*") if p.is_dir()]
    kinds = {p.suffix for p in files}
    assert {".png", ".json", ".csv", ".npz"} <= kinds, kinds  # maps, results, caches, synth splits
    return files, dirs


@pytest.mark.skipif(not hasattr(os, "umask") or sys.platform == "win32", reason="POSIX permissions")
def test_under_umask_022_every_file_is_readable_by_group_and_others(tmp_path):
    files, dirs = _everything_written(tmp_path, 0o022)
    unreadable = [
        f"{oct(stat.S_IMODE(p.stat().st_mode))} {p}" for p in files if stat.S_IMODE(p.stat().st_mode) & 0o044 != 0o044
    ]
    closed = [
        f"{oct(stat.S_IMODE(p.stat().st_mode))} {p}" for p in dirs if stat.S_IMODE(p.stat().st_mode) & 0o055 != 0o055
    ]
    assert not unreadable and not closed, "\n".join(unreadable + closed)


@pytest.mark.skipif(not hasattr(os, "umask") or sys.platform == "win32", reason="POSIX permissions")
def test_a_private_umask_is_respected_too(tmp_path):
    from dbdbench.io import atomic_write_bytes, make_temp_dir

    old = os.umask(0o077)
    try:
        atomic_write_bytes(tmp_path / "f.bin", b"x")
        d = make_temp_dir(tmp_path, "split-")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.bin").stat().st_mode) == 0o600
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert not list(tmp_path.glob(".f.bin.*"))  # no temporary left behind
