"""Learned methods against HiFST on the real photos of the shared research data (evaluation only).

The photos in ``$DBDBENCH_SHARED/data`` (else ``../shared/data``) are never used for training, tuning or
checkpoint selection; this script only scores the shipped weights on them, protocol ``dbd``:

* CUHK: the 5 defocus photos present (``leaderboards/subsets/cuhk-samples.txt``), original resolution;
* DUT: images 1..5 of the Zhao lab's 320x320 repackaging; xu100: CUHK-TE-1 images 1..5, same packaging.

    .venv/bin/python benchmarks/bench_real_photos.py [--methods hifst rtdbd selfgen] [--option rtdbd:weights=PATH]

Writes benchmarks/results/real_photos.{json,md} (maps under runs/real-photos/).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETS = [
    ("cuhk", "cuhk", {"subset": REPO / "leaderboards" / "subsets" / "cuhk-samples.txt"}),
    ("dut", "dut", {}),
    ("xu100", "xu100", {}),
]


def main() -> None:
    from dbdbench.api import list_samples, open_dataset, run_method
    from dbdbench.plugins import get_registry
    from dbdbench.protocols import get_protocol

    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", nargs="+", default=["hifst", "rtdbd", "selfgen"])
    ap.add_argument("--option", action="append", default=[], help="METHOD:key=value")
    args = ap.parse_args()
    data = Path(os.environ.get("DBDBENCH_SHARED", REPO.parent / "shared")) / "data"
    options: dict[str, dict[str, str]] = {}
    for item in args.option:
        method, _, kv = item.partition(":")
        key, _, value = kv.partition("=")
        options.setdefault(method, {})[key] = value
    methods = [m for m in args.methods if m in get_registry().methods]
    rows = []
    for label, name, extra in SETS:
        ds = open_dataset(name, root=data / name)
        listing = list_samples(ds, subset=extra.get("subset"))
        for m in methods:
            result, _ = run_method(
                m,
                ds,
                listing,
                get_protocol("dbd"),
                out=REPO / "runs" / "real-photos",
                options=options.get(m, {}),
                device="cpu",
                workers=1,
            )
            prov = result.method.get("provenance") or {}
            rows.append(
                {
                    "set": label,
                    "n_images": result.n_images,
                    "method": m,
                    "options": options.get(m, {}),
                    "f_max": result.metrics["f_max"],
                    "mae": result.metrics["mae"],
                    "weights_sha256": prov.get("weights_sha256"),
                }
            )
    out = REPO / "benchmarks" / "results"
    (out / "real_photos.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "# Real photos (evaluation only): learned methods vs HiFST, protocol dbd",
        "",
        "CPU; shipped weights unless options say otherwise. Produced by `.venv/bin/python benchmarks/bench_real_photos.py`. "
        "Best per set in bold.",
        "",
        "| set | images | method | f_max ↑ | MAE ↓ |",
        "|---|---:|---|---:|---:|",
    ]
    for label, _, _ in SETS:
        group = [r for r in rows if r["set"] == label]
        best_f = max(r["f_max"] for r in group)
        best_m = min(r["mae"] for r in group)
        for r in group:
            f = f"**{r['f_max']:.4f}**" if r["f_max"] == best_f else f"{r['f_max']:.4f}"
            e = f"**{r['mae']:.4f}**" if r["mae"] == best_m else f"{r['mae']:.4f}"
            lines.append(f"| {label} | {r['n_images']} | {r['method']} | {f} | {e} |")
    (out / "real_photos.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
