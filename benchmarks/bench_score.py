"""Scoring speed: `dbdbench score` on all 1000 CUHK HiFST maps vs merely decoding the 2000 PNGs.

Issue 2's target: scoring takes at most 1.5x the time of decoding the same 2000
files in one plain Python loop, measured in the same run. Both sides are timed
three times (best of 3, after one warm-up pass so the page cache is equally hot
for both). The CLI is timed as a whole subprocess, start-up included.

    .venv/bin/python benchmarks/bench_score.py      # writes benchmarks/results/score_speed.json
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DBDBENCH_SHARED", REPO.parent / "shared")) / "data"
CUHK = SHARED / "cuhk"


def decode_loop(files: list[Path]) -> float:
    start = time.perf_counter()
    for f in files:
        with Image.open(f) as img:
            np.asarray(img)
    return time.perf_counter() - start


def score_cli(*extra: str) -> tuple[float, dict]:
    """``dbdbench score --json`` on CUHK's released HiFST maps as a whole process (start-up included), plus
    ``extra``: its wall time and result."""
    cmd = [
        str(REPO / ".venv/bin/dbdbench"),
        "score",
        "--maps",
        str(CUHK / "results/hifst"),
        "--map-suffix",
        "_HiFSTBlurMap",
        "--dataset",
        "cuhk",
        "--root",
        str(CUHK),
        "--json",
        *extra,
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, json.loads(proc.stdout)


def main() -> None:
    if not (CUHK / "gt").is_dir():
        sys.exit(f"shared data not found at {SHARED}")
    gts = sorted((CUHK / "gt").glob("*.png"))
    maps = [CUHK / "results/hifst" / f"{p.stem}_HiFSTBlurMap.png" for p in gts]
    files = [f for pair in zip(maps, gts) for f in pair]
    decode_loop(files)  # warm the page cache for both contenders
    decode = min(decode_loop(files) for _ in range(3))
    runs = [score_cli("--split", "all") for _ in range(3)]
    score = min(t for t, _ in runs)
    result = runs[0][1]
    out = {
        "what": "dbdbench score (whole CLI process, 2 decode threads) vs a plain PIL decode loop over the same 2000 PNGs",
        "n_maps": len(maps),
        "n_files_decoded": len(files),
        "decode_loop_s": round(decode, 3),
        "score_cli_s": round(score, 3),
        "ratio": round(score / decode, 3),
        "target_ratio": 1.5,
        "f_max_dbd": result["metrics"]["f_max"],
        "machine": {
            "cpu": result["environment"]["cpu"],
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "command": "python benchmarks/bench_score.py",
    }
    path = REPO / "benchmarks/results/score_speed.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
