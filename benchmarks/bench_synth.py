"""Time generating the default ``synth`` test split (200 images, 320x320, 2 worker processes).

The issue's budget is 60 s on a 2-core machine. Run from the repository root::

    python benchmarks/bench_synth.py            # writes benchmarks/results/synth.json

The split is generated into a fresh temporary directory (never the user cache),
twice by default, so the figure includes process-pool start-up and the decoding
of the texture photos, exactly what a first ``--dataset synth`` run pays.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "synth.json")
    args = ap.parse_args()

    from dbdbench.datasets.synth import GENERATOR_VERSION, generate_split, verify_split
    from dbdbench.datasets.synth.generate import read_manifest

    times, digests = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmp:
            t0 = time.perf_counter()
            folder = generate_split(Path(tmp) / "test", split="test", n=args.n, size=args.size, workers=args.workers)
            times.append(time.perf_counter() - t0)
            assert not verify_split(folder)
            m = read_manifest(folder)
            digests.append(m["files"])
            fracs = [s["in_focus_fraction"] for s in m["samples"]]
        print(f"generated {args.n} images in {times[-1]:.1f} s", flush=True)
    result = {
        "benchmark": "synth test split generation",
        "command": f"python benchmarks/bench_synth.py --n {args.n} --size {args.size} --workers {args.workers}",
        "generator_version": GENERATOR_VERSION,
        "n": args.n,
        "size": args.size,
        "workers": args.workers,
        "seconds": [round(t, 2) for t in times],
        "seconds_median": round(statistics.median(times), 2),
        "images_per_second": round(args.n / statistics.median(times), 2),
        "budget_seconds": 60,
        "byte_identical_across_runs": all(d == digests[0] for d in digests),
        "in_focus_fraction": {
            "min": round(min(fracs), 3),
            "p10": round(sorted(fracs)[len(fracs) // 10], 3),
            "median": round(statistics.median(fracs), 3),
            "p90": round(sorted(fracs)[len(fracs) * 9 // 10], 3),
            "max": round(max(fracs), 3),
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
