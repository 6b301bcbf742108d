"""CPU latency of the learned methods against HiFST at 320x320, in one process (issue: rtdbd, the 30x target).

For each method: a few warm-up calls, then ``--repeats`` timed ``predict`` calls on the same 320x320 photo
(a crop of a synth test image: real texture and blur, no third-party data); best and median are reported,
plus FPS. rtdbd/selfgen run with their shipped weights (`lite`) and, for reference, the paper-sized `full`
variants with random weights (latency does not depend on the weights' values). Threads: torch's default
(all cores). Run it on an otherwise idle machine.

    .venv/bin/python benchmarks/bench_learned_latency.py [--repeats 10]

Writes benchmarks/results/learned_latency.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def photo(size: int = 320) -> np.ndarray:
    from dbdbench.api import open_dataset
    from dbdbench.io import read_rgb

    sample = open_dataset("synth").list().samples[0]
    return np.ascontiguousarray(read_rgb(sample.image)[:size, :size])


def timed(fn, repeats: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    from dbdbench.plugins import get_registry
    from dbdbench.prepare import prepare_method
    from dbdbench.results import environment

    reg = get_registry()
    image = photo()
    rows = []
    configs = [("hifst", {}), ("rtdbd", {}), ("rtdbd", {"variant": "full", "weights": "random"})]
    if "selfgen" in reg.methods:
        configs += [("selfgen", {}), ("selfgen", {"variant": "full", "weights": "random"})]
    for method_id, options in configs:
        method = prepare_method(method_id, options, "cpu").build()
        times = timed(lambda method=method: method.predict(image), args.repeats)
        rows.append(
            {
                "method": method_id,
                "options": options,
                "best_ms": min(times) * 1e3,
                "median_ms": statistics.median(times) * 1e3,
                "fps_best": 1 / min(times),
                "weights": (method.provenance() or {}).get("weights", "-"),
            }
        )
    hifst_best = rows[0]["best_ms"]
    for r in rows:
        r["speedup_vs_hifst_best"] = hifst_best / r["best_ms"]
    current = environment("cpu")  # after the learned methods ran: torch is imported, its threads known
    env = {key: current[key] for key in ("cpu", "torch", "torch_threads", "python")}
    out = REPO / "benchmarks" / "results"
    (out / "learned_latency.json").write_text(
        json.dumps({"environment": env, "size": "320x320", "rows": rows}, indent=2) + "\n"
    )
    lines = [
        "# Learned methods vs HiFST: CPU latency at 320x320",
        "",
        f"`{env['cpu']}`, torch {env['torch']} with {env['torch_threads']} threads; best and median of "
        f"{args.repeats} `predict()` calls after 2 warm-up calls, same process, same 320x320 image. "
        "Produced by `.venv/bin/python benchmarks/bench_learned_latency.py`.",
        "",
        "| method | options | best ms | median ms | FPS (best) | speed-up vs hifst (best) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        opts = ", ".join(f"{k}={v}" for k, v in r["options"].items()) or "-"
        if r["method"] != "hifst":
            opts += "; random weights" if r["weights"] == "random" else "; shipped weights"
        lines.append(
            f"| {r['method']} | {opts} | {r['best_ms']:.1f} | {r['median_ms']:.1f} | {r['fps_best']:.1f} | {r['speedup_vs_hifst_best']:.1f}x |"
        )
    (out / "learned_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
