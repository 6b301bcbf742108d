"""Quality of the handcrafted baselines vs a constant map, through the dbdbench CLI.

For every method in ``dbdbench-baselines`` and every dataset (the real CUHK and
DUT samples in the shared data folder, and the embedded ``synth`` set) this runs

    dbdbench run --method M --dataset D [--root R] --skip-bad --json

as a subprocess, and scores a constant map (0.5 everywhere) on the same images
with ``dbdbench score``, so that "far above a constant map" is checked with the
harness's own metrics and protocol. Writes
``benchmarks/results/baselines_quality.{json,md}``.

    .venv/bin/python benchmarks/bench_baselines_quality.py [--methods gradient,dct] [--out runs/bench-quality]
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

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
METHODS = ["gradient", "laplacian", "dct", "hifst", "lbp", "svd"]
METRICS = ["f_max", "f_adaptive", "mae"]


def shared_data() -> Path:
    env = os.environ.get("DBDBENCH_SHARED")
    return Path(env) / "data" if env else REPO.parent / "shared" / "data"


def cli() -> str:
    exe = Path(sys.executable).with_name("dbdbench")
    return str(exe) if exe.exists() else "dbdbench"


def datasets() -> list[tuple[str, list[str]]]:
    data = shared_data()
    out = []
    if (data / "cuhk").is_dir():
        out.append(("cuhk", ["--dataset", "cuhk", "--root", str(data / "cuhk")]))
    else:
        print(f"skipping cuhk: {data / 'cuhk'} not found", file=sys.stderr)
    if (data / "dut").is_dir():
        out.append(("dut", ["--dataset", "dut", "--root", str(data / "dut")]))
    else:
        print(f"skipping dut: {data / 'dut'} not found", file=sys.stderr)
    out.append(("synth", ["--dataset", "synth"]))
    return out


def run_json(args: list[str]) -> dict:
    proc = subprocess.run([cli(), *args, "--json"], capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout)


def constant_scores(ds_args: list[str], maps_dir: Path) -> dict:
    """Score a constant 0.5 map named like the maps of a finished run."""
    with tempfile.TemporaryDirectory() as tmp:
        for p in sorted(maps_dir.iterdir()):
            if p.suffix.lower() == ".png":
                h, w = np.asarray(Image.open(p)).shape[:2]
                Image.fromarray(np.full((h, w), 128, np.uint8)).save(Path(tmp) / p.name)
        return run_json(["score", "--maps", tmp, *ds_args, "--skip-bad", "--allow-missing"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", default=str(REPO / "runs" / "bench-baselines-quality"))
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    args = ap.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    results: dict = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "rows": [],
    }
    consts: dict = {}
    for ds, ds_args in datasets():
        for m in methods:
            t0 = time.perf_counter()
            try:
                r = run_json(["run", "--method", m, *ds_args, "--skip-bad", "--out", args.out])
            except RuntimeError as exc:
                print(f"{m} on {ds}: {exc}", file=sys.stderr)
                results["rows"].append({"method": m, "dataset": ds, "error": str(exc)[-500:]})
                continue
            dt = time.perf_counter() - t0
            if ds not in consts:
                try:
                    consts[ds] = constant_scores(ds_args, Path(r["method"]["maps"]))["metrics"]
                except (RuntimeError, KeyError) as exc:
                    print(f"constant map on {ds}: {exc}", file=sys.stderr)
                    consts[ds] = {}
            row = {
                "method": m,
                "dataset": ds,
                "n_images": r["n_images"],
                "wall_s": round(dt, 1),
                **{k: r["metrics"].get(k) for k in METRICS},
            }
            results["rows"].append(row)
            print(json.dumps(row), flush=True)
    results["constant"] = consts
    res_dir = Path(args.results)
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / "baselines_quality.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Handcrafted baselines vs a constant map",
        "",
        f"Produced by `{results['command']}` on {results['machine']}.",
        "Metrics from `dbdbench run --json` (protocol `dbd`: in-focus positive); the constant row scores a 0.5 map on the same images with `dbdbench score`.",
        "",
        "| dataset | method | n | F_max | F_adaptive | MAE |",
        "|---|---|---|---|---|---|",
    ]
    fmt = lambda v: "-" if v is None else f"{v:.3f}"
    for ds, _ in datasets():
        c = consts.get(ds, {})
        if c:
            lines.append(
                f"| {ds} | *constant 0.5* | | {fmt(c.get('f_max'))} | {fmt(c.get('f_adaptive'))} | {fmt(c.get('mae'))} |"
            )
        for row in results["rows"]:
            if row["dataset"] != ds:
                continue
            if "error" in row:
                lines.append(f"| {ds} | {row['method']} | | error | | |")
            else:
                lines.append(
                    f"| {ds} | {row['method']} | {row['n_images']} | {fmt(row['f_max'])} | {fmt(row['f_adaptive'])} | {fmt(row['mae'])} |"
                )
    (res_dir / "baselines_quality.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
