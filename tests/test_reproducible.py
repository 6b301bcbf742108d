"""Reproducible numbers (issue 27, item 4): scores do not depend on --workers, a committed copy whose numbers
did not change is kept as it is, and OpenBLAS runs one set of kernels on every x86-64 CPU (dbdbench/blas.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from dbdbench.api import list_samples, open_dataset, score_maps
from dbdbench.leaderboard.store import save_result_if_changed
from dbdbench.protocols import get_protocol
from dbdbench.results import Environment

#: What may differ between two runs of one command: where and when it ran.
STAMPS = ("environment", "command", "created", "timing", "run", "per_image_data")


@pytest.fixture
def scored_folder(tmp_path):
    """Twelve random maps and masks of mixed sizes (maps at half size for some: resized, float path)."""
    rng = np.random.default_rng(7)
    maps, gts = tmp_path / "maps", tmp_path / "gt"
    maps.mkdir(), gts.mkdir()
    for i in range(12):
        h, w = 40 + 3 * i, 56 - i
        gt = (rng.random((h, w)) < 0.35 + 0.03 * i).astype(np.uint8) * 255
        m = rng.integers(0, 256, (h // 2, w // 2) if i % 3 == 0 else (h, w), dtype=np.uint8)
        Image.fromarray(gt).save(gts / f"{i:02d}.png")
        Image.fromarray(m).save(maps / f"{i:02d}.png")
    return maps, gts


def _content(result) -> dict:
    return {k: v for k, v in result.to_json().items() if k not in STAMPS}


@pytest.mark.parametrize("protocol", ["dbd", "sod", "hifst"])
def test_scores_are_bit_identical_for_any_number_of_workers(scored_folder, protocol):
    maps, gts = scored_folder
    dataset = open_dataset("folder", gt_polarity="focus", options={"gt": str(gts)})
    listing = list_samples(dataset)
    outs = [score_maps(maps, dataset, listing, get_protocol(protocol), workers=w) for w in (1, 2, 5)]
    first_result, first_rows = outs[0]
    for result, rows in outs[1:]:
        assert _content(result) == _content(first_result)  # every metric, curve point and per-image value, exactly
        assert rows == first_rows


def test_run_with_one_or_two_worker_processes_writes_the_same_maps_and_numbers(
    tmp_path, cli, make_photo_folder, only_dir
):
    """run --workers 1 and --workers 2 (a process pool) give byte-identical maps and identical result JSON."""
    data = make_photo_folder(
        tmp_path, seed=2, shape=(40, 52), cut=lambda i, rng: 14 + 4 * i, sigma=lambda i: 2, name="{i}"
    )
    results, folders = [], []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        proc = cli(*data.run_args("test-contrast", "--workers", workers, "--json", out=out))
        result = {k: v for k, v in json.loads(proc.stdout).items() if k not in STAMPS}
        result["method"].pop("maps")  # the --out folder
        results.append(result)
        folders.append(only_dir(out / "test-contrast") / "maps")
    assert results[0] == results[1]
    names = sorted(p.name for p in folders[0].glob("*.png"))
    assert names == sorted(p.name for p in folders[1].glob("*.png")) and len(names) == 6
    for name in names:
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes()


# ------------------------------------------------------------------ committed copies


def _result(scored_folder):
    maps, gts = scored_folder
    dataset = open_dataset("folder", gt_polarity="focus", options={"gt": str(gts)})
    return score_maps(maps, dataset, list_samples(dataset), get_protocol("dbd"), method={"id": "m", "maps": "m"})[0]


def _restamped(result, revision: str, command: str):
    env = dataclasses.replace(result.environment, git_revision=revision, numpy="9.9", blas="other kernels")
    return dataclasses.replace(result, environment=env, command=command)


def test_copy_is_kept_when_only_its_provenance_would_change(scored_folder, tmp_path):
    base = tmp_path / "lb"
    first = _restamped(_result(scored_folder), "aaaa", "dbdbench score --first")
    path, kept = save_result_if_changed(first, "m", base=base)
    assert not kept
    before = path.read_bytes()

    again = _restamped(_result(scored_folder), "bbbb", "dbdbench score --again")  # a fresh clone, another revision
    assert save_result_if_changed(again, "m", base=base) == (path, True)
    assert path.read_bytes() == before  # not rewritten: it records where its numbers were first made

    changed = dataclasses.replace(again, metrics={**again.metrics, "mae": again.metrics["mae"] + 1e-12})
    assert save_result_if_changed(changed, "m", base=base) == (path, False)  # one bit of one number: rewritten
    assert json.loads(path.read_text())["metrics"]["mae"] == changed.metrics["mae"]
    assert json.loads(path.read_text())["environment"]["git_revision"] == "bbbb"


def test_a_copy_from_a_modified_checkout_is_replaced_by_a_clean_one(scored_folder, tmp_path):
    base = tmp_path / "lb"
    path, _ = save_result_if_changed(_restamped(_result(scored_folder), "aaaa-dirty", "x"), "m", base=base)
    clean = _restamped(_result(scored_folder), "bbbb", "x")
    assert save_result_if_changed(clean, "m", base=base) == (path, False)
    assert json.loads(path.read_text())["environment"]["git_revision"] == "bbbb"
    dirty_again = _restamped(_result(scored_folder), "cccc-dirty", "x")
    assert save_result_if_changed(dirty_again, "m", base=base) == (path, True)  # the clean copy stays


# ------------------------------------------------------------------ the BLAS kernels


def _coretype(code: str, **env: str) -> str:
    full = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _runs_pinned_kernels() -> bool:
    import platform

    from dbdbench.blas import _has_avx2_fma

    return platform.machine().lower() in ("x86_64", "amd64") and _has_avx2_fma()


def test_importing_dbdbench_pins_openblas_kernels_and_records_them():
    show = "import os, dbdbench; from dbdbench.blas import description; print(os.environ.get('OPENBLAS_CORETYPE'), '|', description())"
    pinned, described = _coretype(show).split(" | ")
    if _runs_pinned_kernels():
        assert pinned == "Haswell"
        if described != "None":  # threadpoolctl present: the kernels numpy's OpenBLAS really loaded
            assert described.endswith("Haswell"), described
    else:
        assert pinned == "None"
    # the user's choice wins, and numpy imported first means it is too late to choose
    assert _coretype(show, OPENBLAS_CORETYPE="Zen").split(" | ")[0] == "Zen"
    late = "import numpy, os, dbdbench; print(os.environ.get('OPENBLAS_CORETYPE'))"
    assert _coretype(late) == "None"


def test_results_record_the_blas_kernels():
    env = Environment.current("cpu")
    assert env.to_json().get("blas") == env.blas
