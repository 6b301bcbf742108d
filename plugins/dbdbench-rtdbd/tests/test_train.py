"""``dbdbench train --method rtdbd`` end to end on tiny synth data: outputs, exact resume after a kill, torchrun DDP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

TINY = [
    "--dataset",
    "synth",
    "--dataset-option",
    "n=8",
    "--dataset-option",
    "size=64",
    "--batch-size",
    "2",
    "--option",
    "crop=64",
    "--option",
    "patch=16",
    "--option",
    "val_n=2",
    "--option",
    "val_size=64",
    "--option",
    "checkpoint_every=2",
    "--option",
    "warmup=2",
]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return {**os.environ, "DBDBENCH_CACHE": str(cache), "OMP_NUM_THREADS": "1", "DBDBENCH_LOAD_PLUGINS": "rtdbd"}


def train(env, out, *args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "dbdbench", "train", "--method", "rtdbd", *TINY, "--out", str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(proc.stderr)
    return proc


def weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)


def test_train_writes_log_checkpoint_weights_and_summary(env, tmp_path):
    out = tmp_path / "run"
    train(env, out, "--steps", "3")
    for name in (
        "loss.csv",
        "val.csv",
        "training.json",
        "weights.safetensors",
        "best.safetensors",
        "checkpoints/last.pt",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "training.json").read_text())
    assert summary["steps"] == 3 and summary["options"]["variant"] == "lite"
    rows = (out / "loss.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,wall_s,bce,bce_swap,self,loss") and len(rows) == 4
    again = train(env, out, "--steps", "3", check=False)  # an existing run is never silently overwritten
    assert again.returncode != 0 and "--resume" in again.stderr


def test_resume_reaches_the_total_and_matches_an_uninterrupted_run(env, tmp_path):
    train(env, tmp_path / "straight", "--steps", "6")
    train(env, tmp_path / "split", "--steps", "4")
    train(env, tmp_path / "split", "--steps", "6", "--resume")
    assert json.loads((tmp_path / "split" / "training.json").read_text())["steps"] == 6
    assert same(
        weights(tmp_path / "straight" / "weights.safetensors"), weights(tmp_path / "split" / "weights.safetensors")
    )
    rows = (tmp_path / "split" / "loss.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [1, 2, 3, 4, 5, 6]


def test_killed_run_resumes_from_its_last_checkpoint(env, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbdbench", "train", "--method", "rtdbd", *TINY, "--out", str(out), "--steps", "400"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    last = out / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 240
    while not last.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    step = torch.load(last, weights_only=True)["step"]
    assert 2 <= step < 400
    # The same checkpoint continued twice gives the same network: resume is exact, not approximate.
    twin = tmp_path / "twin"
    shutil.copytree(out, twin)
    train(env, out, "--steps", str(step + 2), "--resume")
    train(env, twin, "--steps", str(step + 2), "--resume")
    assert same(weights(out / "weights.safetensors"), weights(twin / "weights.safetensors"))


def test_resume_refuses_other_options(env, tmp_path):
    out = tmp_path / "run"
    train(env, out, "--steps", "2")
    proc = train(env, out, "--steps", "4", "--resume", "--option", "lambda_s=0.5", check=False)
    assert proc.returncode != 0 and "other options" in proc.stderr and "Traceback" not in proc.stderr


def test_torchrun_two_cpu_processes_and_resume(env, tmp_path):
    torchrun = Path(sys.executable).parent / "torchrun"
    if not torchrun.exists():
        pytest.skip("torchrun is not installed next to this Python")
    out = tmp_path / "ddp"
    base = [
        str(torchrun),
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "dbdbench",
        "train",
        "--method",
        "rtdbd",
        *TINY,
        "--out",
        str(out),
    ]
    for extra in (["--steps", "4"], ["--steps", "6", "--resume"]):
        proc = subprocess.run(base + extra, capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "training.json").read_text())
    assert summary["steps"] == 6 and summary["processes"] == 2


def test_unknown_option_and_untrainable_method_are_one_line_errors(env, tmp_path):
    proc = train(env, tmp_path / "x", "--steps", "1", "--option", "nope=1", check=False)
    assert proc.returncode == 2 and "no option 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "dbdbench", "train", "--method", "nosuch"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2 and "nosuch" in proc.stderr
