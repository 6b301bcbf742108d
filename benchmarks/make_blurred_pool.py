"""Render a full-blurred pool for selfgen experiments: the synth ``fb`` scenes with another blur floor.

The ``fb`` split blurs every layer by at least 3 px (``FB_MIN_COC_PX``), while the benchmark calls a pixel
blurred from 1.5 px (``FOCUS_COC_PX``). selfgen's D_b learns "full-blurred" from that pool, so mild blur
(1.5-3 px) looks sharper than anything it has seen. This script renders the same scenes with a lower floor
to test whether that gap matters: train with ``--option blurred=OUT``. No mask is written or read.

    .venv/bin/python benchmarks/make_blurred_pool.py runs/pools/fb-floor1.6 [--floor 1.6] [--n 500] [--size 320]

Prints the percentiles of each image's smallest CoC.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np


def _render(index: int, out: Path, floor: float, size: int) -> float:
    from PIL import Image

    from dbdbench.datasets.synth.render import render_scene

    scene = render_scene(0, index, size, "fb", fb_floor=floor)
    Image.fromarray(scene.image).save(out / f"fbm_{index:04d}.png")
    return float(scene.coc.min())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--floor", type=float, default=1.6, help="smallest CoC of any layer (px)")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--size", type=int, default=320)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    job = partial(_render, out=args.out, floor=args.floor, size=args.size)
    with ProcessPoolExecutor(2) as pool:
        smallest = np.array(list(pool.map(job, range(args.n), chunksize=8)))
    print(
        f"{args.n} images in {args.out}; smallest CoC percentiles 0/10/50/90/100:",
        np.percentile(smallest, [0, 10, 50, 90, 100]),
    )


if __name__ == "__main__":
    main()
