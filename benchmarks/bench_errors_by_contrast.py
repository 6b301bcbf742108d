"""Where a method's errors lie on synth ``val``: by the image's local contrast, by the true circle of
confusion, and by image.

A defocus detector must tell a sharp but faint texture from a blurred one. This script scores that directly:
for every pixel it takes the local contrast (the largest Sobel gradient magnitude in a 7x7 window, in grey
levels per pixel on the 0..255 scale) and reports, per contrast band, the share of in-focus pixels the method
calls blurred ("miss") and of blurred pixels it calls in focus ("false sharp"), maps binarised at 0.5. It uses
the synth ``val`` split only (the split that chooses checkpoints), never the test split or real photos.

Two finer views follow. By CoC band (finer than the harness's ``coc_bands``): is a miss a near-threshold
call (CoC just under 1.5 px) or a perfectly focused region called blurred? By image: which images hold the
most missed in-focus pixels (a handful of scenes can carry much of the error).

    .venv/bin/python benchmarks/bench_errors_by_contrast.py [--method rtdbd] [--option key=value] [--n 64]
        [--size 640] [--label NAME]

Writes benchmarks/results/errors_by_contrast.<label>.{json,md} (label: the method id unless given; maps
under runs/errors-by-contrast/).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: Band edges of the local contrast (grey levels per pixel); the last band is open.
EDGES = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0)
#: CoC band edges (pixels) for the harness's CocBands, finer than its default; a pixel is in focus at
#: CoC <= 1.5 (the synth GT), so the first six bands are in focus.
COC_EDGES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 6.0)
#: Images listed in the per-image table.
WORST = 8


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
    from dbdbench.io import read_array, read_gray, read_rgb
    from dbdbench.metrics import CocBands, prepare
    from dbdbench.protocols import get_protocol

    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="rtdbd")
    ap.add_argument("--option", action="append", default=[], help="key=value for the method")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--label", default="", help="name of the output files (default: the method id)")
    args = ap.parse_args()
    label = args.label or args.method
    options = dict(item.split("=", 1) for item in args.option)
    ds = open_dataset("synth", split="val", options={"n": args.n, "size": args.size})
    listing = list_samples(ds)
    protocol = get_protocol("dbd")
    result, folder = run_method(
        args.method, ds, listing, protocol, out=REPO / "runs" / "errors-by-contrast", options=options
    )
    counts = np.zeros((4, len(EDGES)), dtype=np.int64)
    coc_bands = CocBands(protocol, COC_EDGES)
    per_image = []
    for sample in listing.samples:
        if sample.image is None or sample.gt is None or sample.coc is None:  # synth always has all three
            raise SystemExit(f"{sample.stem}: synth sample without image, GT or CoC map")
        gt_raw, map_raw = read_gray(sample.gt), read_gray(folder / "maps" / f"{sample.stem}.png")
        focus = gt_raw > 127  # synth GT: 255 = in focus
        predicted = map_raw > 127  # the protocol's fixed threshold 0.5, as CocBands applies it
        counts += band_counts(local_contrast(read_rgb(sample.image)), focus, predicted)
        coc_bands.step(prepare(map_raw, gt_raw, protocol), read_array(sample.coc))
        missed = int((focus & ~predicted).sum())
        per_image.append(
            {
                "stem": sample.stem,
                "in_focus": float(focus.mean()),
                "missed_px": missed,
                "miss_rate": missed / max(int(focus.sum()), 1),
            }
        )
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
    by_coc = coc_bands.results()
    coc_pixels = sum(band["pixels"] for band in by_coc)
    coc_rows = [{**band, "share": band["pixels"] / coc_pixels} for band in by_coc]
    all_missed = max(sum(r["missed_px"] for r in per_image), 1)
    worst = sorted(per_image, key=lambda r: -r["missed_px"])[:WORST]
    for r in worst:
        r["share_of_all_missed"] = r["missed_px"] / all_missed
    prov = result.method.get("provenance") or {}
    record = {
        "method": args.method,
        "options": options,
        "weights_sha256": prov.get("weights_sha256"),
        "dataset": f"synth val n={args.n} size={args.size}",
        "f_max": result.metrics["f_max"],
        "mae": result.metrics["mae"],
        "bands": rows,
        "coc_bands": coc_rows,
        "worst_images": worst,
    }
    out = REPO / "benchmarks" / "results"
    (out / f"errors_by_contrast.{label}.json").write_text(json.dumps(record, indent=2) + "\n")
    sha = (record["weights_sha256"] or "n/a")[:8]
    command = " ".join([".venv/bin/python benchmarks/bench_errors_by_contrast.py", *sys.argv[1:]])
    lines = [
        f"# {args.method}: where its errors lie on synth val (n={args.n}, {args.size}px)",
        "",
        f"Weights sha256 {sha}..., options {options or 'default'}, CPU, maps binarised at 0.5; "
        f"f_max {record['f_max']:.3f}, MAE {record['mae']:.3f}. Local contrast = largest Sobel gradient "
        f"(grey levels/px) in a 7x7 window. Produced by `{command}`.",
        "",
        "| local contrast | share of in-focus px | in focus called blurred | share of blurred px | blurred called sharp |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['band']} | {r['in_focus_share']:.3f} | {r['miss_rate']:.3f} | "
            f"{r['blurred_share']:.3f} | {r['false_sharp_rate']:.3f} |"
        )
    lines += _coc_and_image_tables(coc_rows, worst)
    (out / f"errors_by_contrast.{label}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _coc_and_image_tables(coc_rows: list[dict], worst: list[dict]) -> list[str]:
    lines = [
        "",
        "By true circle of confusion (in focus: CoC <= 1.5 px):",
        "",
        "| CoC band (px) | share of px | predicted in focus |",
        "|---|---:|---:|",
    ]
    lines += [f"| {r['band_px']} | {r['share']:.3f} | {r['predicted_in_focus'] or 0:.3f} |" for r in coc_rows]
    lines += [
        "",
        f"The {len(worst)} images with the most in-focus pixels called blurred:",
        "",
        "| image | in-focus share | of it called blurred | share of all such pixels |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['stem']} | {r['in_focus']:.3f} | {r['miss_rate']:.3f} | {r['share_of_all_missed']:.3f} |" for r in worst
    ]
    return lines


if __name__ == "__main__":
    main()
