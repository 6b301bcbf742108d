"""Cost of ``--ci``: the bootstrap of every metric on all 704 CUHK defocus maps (HiFST's released maps), 1000 resamples.

Issue 26's budget: the intervals add at most a few seconds to scoring 704 maps. Each protocol that scores
CUHK at full size is scored once (in process, through the same API as ``dbdbench score``), then its
``ci`` record is computed three times (best of 3 reported; the three must be identical, which is the
"rerun gives the same intervals" property), and the per-image data file encoded once. The whole
command is also timed as a subprocess with and without ``--ci 0.95`` (best of 3 each), under protocol
``dbd``; on a busy machine that difference is noisier than the in-process figure.

    .venv/bin/python benchmarks/bench_ci.py      # writes benchmarks/results/ci_speed.json
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time

from bench_score import CUHK, REPO, SHARED, score_cli

RESAMPLES = 1000


def main() -> None:
    if not (CUHK / "gt").is_dir():
        sys.exit(f"shared data not found at {SHARED}")
    from dbdbench.api import list_samples, open_dataset, score_maps
    from dbdbench.errors import DbdbenchError
    from dbdbench.plugins import get_registry
    from dbdbench.protocols import get_protocol
    from dbdbench.results import environment
    from dbdbench.stats import BootstrapSettings, confidence_intervals

    dataset = open_dataset("cuhk", root=CUHK, split="defocus")
    listing = list_samples(dataset)
    settings = BootstrapSettings(0.95, RESAMPLES, 0)
    rows = []
    for name in list(get_registry().protocols):
        protocol = get_protocol(name)
        start = time.perf_counter()
        try:
            result, _ = score_maps(CUHK / "results/hifst", dataset, listing, protocol, map_suffix="_HiFSTBlurMap")
        except DbdbenchError as exc:  # e.g. 'sg', which scores 320x320 GT only
            rows.append({"protocol": name, "refused": str(exc).splitlines()[0]})
            continue
        score_s = time.perf_counter() - start
        data = result.per_image
        assert data is not None
        times, records = [], []
        for _ in range(3):
            start = time.perf_counter()
            records.append(confidence_intervals(protocol, data, result.metrics, settings))
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        encoded = data.encode()
        encode_s = time.perf_counter() - start
        rows.append(
            {
                "protocol": name,
                "n_images": data.n,
                "metrics": len(records[0]["metrics"]),
                "score_s": round(score_s, 3),
                "bootstrap_s": round(min(times), 3),
                "identical_on_rerun": all(r == records[0] for r in records),
                "per_image_data_bytes": len(encoded),
                "per_image_data_encode_s": round(encode_s, 3),
                "ci": records[0]["metrics"],
            }
        )
        print(f"{name}: bootstrap {min(times):.3f} s, scoring {score_s:.2f} s", file=sys.stderr)
    plain = min(score_cli()[0] for _ in range(3))
    with_ci = min(score_cli("--ci", "0.95")[0] for _ in range(3))
    out = {
        "what": f"--ci: bootstrap of every metric over the 704 CUHK defocus images (HiFST's released maps), {RESAMPLES} resamples",
        "budget": "at most a few seconds on top of scoring",
        "resamples": RESAMPLES,
        "protocols": rows,
        "cli_dbd": {
            "score_s": round(plain, 3),
            "score_ci_s": round(with_ci, 3),
            "added_s": round(with_ci - plain, 3),
            "note": "whole 'dbdbench score' processes, best of 3 each; the difference includes machine-load noise",
        },
        "machine": {
            "cpu": environment()["cpu"],
            "cpu_count": os.cpu_count(),
            "threads": os.environ.get("OMP_NUM_THREADS"),
            "python": platform.python_version(),
        },
        "command": ".venv/bin/python benchmarks/bench_ci.py",
    }
    path = REPO / "benchmarks/results/ci_speed.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "protocols"}, indent=2))


if __name__ == "__main__":
    main()
