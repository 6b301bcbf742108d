"""Peak memory of scoring vs dataset size: does ``dbdbench score`` stream its images?

Scores N released HiFST maps (spread evenly over the sorted stems) of CUHK (``<shared>/data/cuhk/results/hifst/<stem>_HiFSTBlurMap.png``)
against the CUHK GT for each N in ``--sizes`` (default 100 and 1000), each in a fresh ``dbdbench score``
process, and records that process's peak resident set size (``ru_maxrss`` of the child, read by a small
wrapper process so every measurement is isolated). If scoring streams, the peak does not grow with N.

    python benchmarks/bench_memory.py                       # writes benchmarks/results/memory.json
    python benchmarks/bench_memory.py --sizes 40,400 --out /tmp/m.json

The data folder is ``--data``, else ``$DBDBENCH_SHARED/data``, else ``../shared/data`` next to the checkout; without it the script exits 0
with a message (nothing to measure).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUFFIX = "_HiFSTBlurMap"

# Runs the command given as arguments and prints the peak RSS (KiB on Linux) of that child only.
WRAPPER = (
    "import resource, subprocess, sys\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)\n"
    "sys.stderr.write(p.stderr)\n"
    "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.stdout.write(p.stdout)\n"
)


def measure(cmd: list[str]) -> tuple[float, float, dict]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - start
    head, _, rest = proc.stdout.partition("\n")
    code, maxrss = (int(x) for x in head.split())
    if code != 0:
        raise SystemExit(f"bench_memory: {' '.join(cmd)} failed (exit {code}): {proc.stderr.strip().splitlines()[-1:]}")
    kib = maxrss / 1024 if sys.platform == "darwin" else maxrss  # macOS reports bytes
    return kib / 1024, wall, json.loads(rest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="comma-separated numbers of maps to score")
    parser.add_argument("--workers", type=int, default=2, help="dbdbench score --workers")
    parser.add_argument(
        "--data",
        type=Path,
        default=(
            Path(os.environ["DBDBENCH_SHARED"]) if os.environ.get("DBDBENCH_SHARED") else HERE.parent.parent / "shared"
        )
        / "data",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "memory.json")
    args = parser.parse_args()

    gt_dir, maps_dir = args.data / "cuhk" / "gt", args.data / "cuhk" / "results" / "hifst"
    if not (gt_dir.is_dir() and maps_dir.is_dir()):
        print(f"bench_memory: {gt_dir} or {maps_dir} not found; nothing to measure", file=sys.stderr)
        return
    stems = sorted(p.name[: -len(SUFFIX + ".png")] for p in maps_dir.glob(f"*{SUFFIX}.png"))
    stems = [s for s in stems if (gt_dir / f"{s}.png").is_file()]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            if n > len(stems):
                raise SystemExit(f"bench_memory: asked for {n} maps, only {len(stems)} have GT")
            subset = Path(tmp) / f"n{n}.txt"
            # evenly spread over the sorted stems, so every N has the same mix of image sizes (motion/out_of_focus)
            chosen = [stems[(i * len(stems)) // n] for i in range(n)]
            subset.write_text("\n".join(chosen) + "\n")
            cmd = [
                sys.executable,
                "-m",
                "dbdbench",
                "score",
                "--maps",
                str(maps_dir),
                "--map-suffix",
                SUFFIX,
                "--map-polarity",
                "focus",
                "--gt",
                str(gt_dir),
                "--gt-polarity",
                "blur",
                "--subset",
                str(subset),
                "--workers",
                str(args.workers),
                "--json",
            ]
            peak_mib, wall, result = measure(cmd)
            runs.append(
                {
                    "n_maps": n,
                    "peak_rss_mib": round(peak_mib, 1),
                    "wall_s": round(wall, 2),
                    "n_scored": result["n_images"],
                    "f_max": result["metrics"]["f_max"],
                    "mae": result["metrics"]["mae"],
                    "command": " ".join(["dbdbench", *cmd[3:-3], f"<{n} stems spread evenly>", *cmd[-3:]]),
                }
            )
            print(
                f"{n:5d} maps: peak RSS {peak_mib:7.1f} MiB, {wall:6.2f} s, f_max {result['metrics']['f_max']:.4f}",
                file=sys.stderr,
            )
    report = {
        "what": "peak RSS of one `dbdbench score` process vs the number of maps scored (CUHK, released HiFST maps)",
        "runs": runs,
        "growth_mib": round(runs[-1]["peak_rss_mib"] - runs[0]["peak_rss_mib"], 1) if len(runs) > 1 else None,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpu_count": os.cpu_count()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp_out, args.out)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
