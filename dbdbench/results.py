"""The result schema: what a scored run records, so any number can be traced and re-run.

``result.json`` holds the protocol, dataset, method, metrics, curves, timing
and the full provenance (versions, machine, git revision, command line);
``per_image.csv`` holds one row per image. Both are written atomically.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .io import atomic_write_json, atomic_write_text

SCHEMA_VERSION = 1


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_revision() -> str | None:
    """The dbdbench checkout's revision (with '-dirty' if modified), when it runs from one.

    Changes under ``leaderboards/`` do not count: they are outputs (committed results and tables), and a
    command that writes one must not mark the next command's results as made from modified code.
    """
    here = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(here),
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)leaderboards",
            ],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment(device: str | None = None) -> dict[str, Any]:
    env: dict[str, Any] = {
        "dbdbench": __version__,
        "git_revision": _git_revision(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": _package_version("torch"),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "threads": _thread_count(),
        "device": device,
        "gpu": None,
    }
    if "torch" in sys.modules:  # only ask torch when a learned method already imported it
        torch = sys.modules["torch"]
        env["torch_threads"] = torch.get_num_threads()
        if device and device.startswith("cuda") and torch.cuda.is_available():
            env["gpu"] = torch.cuda.get_device_name(0)
    return env


def _thread_count() -> int | None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def command_line() -> str | None:
    """The command as a user would type it again: ``dbdbench`` plus the arguments, shell-quoted."""
    import shlex

    if not sys.argv:
        return None
    program = Path(sys.argv[0]).name
    head = "dbdbench" if program in ("dbdbench", "cli.py", "__main__.py") else shlex.quote(sys.argv[0])
    return " ".join([head, *map(shlex.quote, sys.argv[1:])])


def timing_summary(times: dict[str, float]) -> dict[str, Any] | None:
    if not times:
        return None
    values = np.array(list(times.values()), dtype=np.float64)
    return {
        "images_timed": int(values.size),
        "mean_s": float(values.mean()),
        "median_s": float(np.median(values)),
        "p90_s": float(np.percentile(values, 90)),
        "total_s": float(values.sum()),
        "images_per_s": float(values.size / values.sum()) if values.sum() > 0 else None,
        "note": "predict() call only, per image, warm-up call excluded; decoding and PNG writing not included",
    }


def build_result(
    *,
    protocol: dict,
    dataset: dict,
    method: dict,
    scored: dict,
    skipped: list[dict],
    timing: dict | None,
    device: str | None,
    extra: dict | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "protocol": protocol,
        "dataset": dataset,
        "method": method,
        "n_images": scored["n_images"],
        "metrics": scored["metrics"],
        "curves": scored["curves"],
    }
    if "coc_bands" in scored:
        result["coc_bands"] = scored["coc_bands"]
    result["skipped"] = skipped
    result["timing"] = timing
    result.update(extra or {})
    result["environment"] = environment(device)
    result["command"] = command_line()
    result["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return result


def write_result(
    out_dir: Path,
    result: dict[str, Any],
    per_image: list[dict],
    times: dict[str, float] | None = None,
    name: str = "result",
) -> tuple[Path, Path]:
    """Write ``<name>.json`` and its per-image table (``per_image<variant>.csv``) into ``out_dir``."""
    import pandas as pd  # only needed here; keeps 'dbdbench score' start-up light

    out_dir = Path(out_dir)
    frame = pd.DataFrame(per_image)
    if times and not frame.empty:
        frame["predict_s"] = frame["stem"].map(times)
    csv_path = out_dir / f"per_image{name[len('result') :]}.csv"
    json_path = out_dir / f"{name}.json"
    atomic_write_text(csv_path, frame.to_csv(index=False, float_format="%.6f"))
    atomic_write_json(json_path, result)
    return json_path, csv_path
