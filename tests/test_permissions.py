"""Files a lab can share: everything a run writes follows the umask, like any ordinary file."""

from __future__ import annotations

import contextlib
import os
import stat
import sys

import numpy as np
import pytest
from PIL import Image


@contextlib.contextmanager
def umask(mask: int):
    """Processes started inside inherit ``mask``, as they would from a user's shell."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _everything_written(tmp_path, mask, cli):
    rng = np.random.default_rng(0)
    images, gt = tmp_path / "images", tmp_path / "gt"
    images.mkdir(), gt.mkdir()
    for i in range(3):
        Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(images / f"im{i}.png")
        Image.fromarray(((rng.random((24, 32)) > 0.5) * 255).astype(np.uint8)).save(gt / f"im{i}.png")
    out = tmp_path / "out"
    cli = cli.but(environment={"DBDBENCH_CACHE": str(out / "cache")})
    run = ("run", "--method", "test-contrast", "--out", out / "runs")
    with umask(mask):
        cli(*run, "--images", images, "--gt", gt, "--gt-polarity", "focus")
        # generates a synth split into the cache, maps, results
        cli(*run, "--dataset", "synth", "--dataset-option", "n=2", "--dataset-option", "size=48")
        cli("score", "--maps", gt, "--gt", gt, "--gt-polarity", "focus", "--out", out / "scored")
        cli("synth", "--out", out / "split", "--n", "2", "--size", "48")
    files = [p for p in out.rglob("*") if p.is_file()]
    dirs = [p for p in out.rglob("*") if p.is_dir()]
    kinds = {p.suffix for p in files}
    assert {".png", ".json", ".csv", ".npz"} <= kinds, kinds  # maps, results, caches, synth splits
    return files, dirs


@pytest.mark.skipif(not hasattr(os, "umask") or sys.platform == "win32", reason="POSIX permissions")
def test_under_umask_022_every_file_is_readable_by_group_and_others(tmp_path, cli):
    files, dirs = _everything_written(tmp_path, 0o022, cli)
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
