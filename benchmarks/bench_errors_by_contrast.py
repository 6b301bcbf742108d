"""Where a method's errors lie: its map's error rate binned by the image's local contrast, on synth ``val``.

A defocus detector must tell a sharp but faint texture from a blurred one. This script scores that directly:
for every pixel it takes the local contrast (the largest Sobel gradient magnitude in a 7x7 window, in grey
levels per pixel on the 0..255 scale) and reports, per contrast band, the share of in-focus pixels the method
calls blurred ("miss") and of blurred pixels it calls in focus ("false sharp"), maps binarised at 0.5. It uses
the synth ``val`` split only (the split that chooses checkpoints), never the test split or real photos.

    .venv/bin/python benchmarks/bench_errors_by_contrast.py [--method rtdbd] [--option key=value] [--n 64] [--size 640]

Writes benchmarks/results/errors_by_contrast.<method>.{json,md} (maps under runs/errors-by-contrast/).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: Band edges of the local contrast (grey levels per pixel); the last band is open.
EDGES = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0)


def local_contrast(image: np.ndarray) -> np.ndarray:
    """Largest Sobel gradient magnitude (0..255 per pixel) of the luminance within a 7x7 window."""
    from scipy import ndimage as ndi

    lum = image[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    magnitude = np.hypot(ndi.sobel(lum, 0), ndi.sobel(lum, 1)) / 8.0  # Sobel's 1-2-1 weights sum to 8 per side
    return ndi.maximum_filter(magnitude, size=7)


def band_counts(contrast: np.ndarray, focus: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Per band: in-focus pixels, of them missed, blurred pixels, of them called sharp (4 x bands)."""
    band = np.digitize(contrast, EDGES[1:])
    n = len(EDGES)
    return np.stack(
        [
            np.bincount(band[focus], minlength=n),
            np.bincount(band[focus & ~predicted], minlength=n),
            np.bincount(band[~focus], minlength=n),
            np.bincount(band[~focus & predicted], minlength=n),
        ]
    )


def main() -> None:
    from dbdbench.api import list_samples, open_dataset, run_method
    from dbdbench.io import read_gray, read_rgb
    from dbdbench.protocols import get_protocol

    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="rtdbd")
    ap.add_argument("--option", action="append", default=[], help="key=value for the method")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--size", type=int, default=640)
    args = ap.parse_args()
    options = dict(item.split("=", 1) for item in args.option)
    ds = open_dataset("synth", split="val", options={"n": args.n, "size": args.size})
    listing = list_samples(ds)
    result, folder = run_method(
        args.method, ds, listing, get_protocol("dbd"), out=REPO / "runs" / "errors-by-contrast", options=options
    )
    counts = np.zeros((4, len(EDGES)), dtype=np.int64)
    for sample in listing.samples:
        if sample.image is None or sample.gt is None:  # synth always has both
            raise SystemExit(f"{sample.stem}: synth sample without image or GT")
        focus = read_gray(sample.gt) > 127  # synth GT: 255 = in focus
        predicted = read_gray(folder / "maps" / f"{sample.stem}.png") > 127
        counts += band_counts(local_contrast(read_rgb(sample.image)), focus, predicted)
    bands = [f"[{lo:g}, {hi:g})" for lo, hi in itertools.pairwise(EDGES)] + [f">= {EDGES[-1]:g}"]
    rows = [
        {
            "band": b,
            "in_focus_share": float(counts[0, i] / counts[0].sum()),
            "miss_rate": float(counts[1, i] / max(counts[0, i], 1)),
            "blurred_share": float(counts[2, i] / counts[2].sum()),
            "false_sharp_rate": float(counts[3, i] / max(counts[2, i], 1)),
        }
        for i, b in enumerate(bands)
    ]
    prov = result.method.get("provenance") or {}
    record = {
        "method": args.method,
        "options": options,
        "weights_sha256": prov.get("weights_sha256"),
        "dataset": f"synth val n={args.n} size={args.size}",
        "f_max": result.metrics["f_max"],
        "mae": result.metrics["mae"],
        "bands": rows,
    }
    out = REPO / "benchmarks" / "results"
    (out / f"errors_by_contrast.{args.method}.json").write_text(json.dumps(record, indent=2) + "\n")
    sha = (record["weights_sha256"] or "n/a")[:8]
    lines = [
        f"# {args.method}: errors by local contrast on synth val (n={args.n}, {args.size}px)",
        "",
        f"Weights sha256 {sha}..., options {options or 'default'}, CPU, maps binarised at 0.5; "
        f"f_max {record['f_max']:.3f}, MAE {record['mae']:.3f}. Local contrast = largest Sobel gradient "
        "(grey levels/px) in a 7x7 window. Produced by `.venv/bin/python benchmarks/bench_errors_by_contrast.py`.",
        "",
        "| local contrast | share of in-focus px | in focus called blurred | share of blurred px | blurred called sharp |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['band']} | {r['in_focus_share']:.3f} | {r['miss_rate']:.3f} | "
            f"{r['blurred_share']:.3f} | {r['false_sharp_rate']:.3f} |"
        )
    (out / f"errors_by_contrast.{args.method}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
