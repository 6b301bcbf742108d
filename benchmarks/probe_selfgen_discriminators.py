"""Probe of selfgen's objective: does it prefer the true mask to the generator's, and can a D see the difference?

Why: every stage-2 run levels off near the shipped G (model card). This probe asks why, with G frozen, in two
measurements.

1. **L_B per mask.** Eq. 5's two halves, ``1 - cos(V(C), V(I'))``, for five masks: the true focus mask
   (``oracle``), G's mask, G's mask binarised, all ones and all zeros. Each is measured with C_b pasted through
   the mask as it is and feathered by 2 px (the trainer's ``feather`` option). If the oracle does not score
   lower than G, L_B does not point G towards the truth.
2. **A fresh discriminator per case.** A new D (the selfgen architecture, ``lite`` or ``full`` widths) is
   trained from scratch to tell a real pool image from a composite, then scored on 100 fresh pairs. A
   balanced accuracy of 0.5 means D cannot see the composite. The mask cases are:
   * ``trivial``: C = T (M = 1 for D_c, M = 0 for D_b). This is the positive control, because T has both
     sharp and blurred regions.
   * ``G``: the generator's mask (Eq. 1-2).
   * ``oracle``: the true mask. If D sees oracle composites as well as G's, it is detecting the pasting,
     not G's errors.

Sources T are the synth ``val`` split, whose masks the trainer already reads to choose checkpoints. The
probe reads them for the oracle and trains nothing on them. I_c and I_b come from synth fc / fb, or from
``--blurred DIR``. Crops of 192 are taken at native scale, with the val split rendered at the train split's
384 px, so that blur sizes match training.

    .venv/bin/python benchmarks/probe_selfgen_discriminators.py [--width lite|full] [--steps 400] \
        [--seeds 0 1] [--cases [CASE ...]] [--generator W] [--classifier W] [--blurred DIR] \
        [--out benchmarks/results/selfgen_probe]

Writes ``OUT.<width>.json`` and ``OUT.<width>.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

MASKS = ("trivial", "G", "oracle")
CASES = tuple(f"{side}-{m}" for side in ("clear", "blurred") for m in MASKS)
WEIGHTS = Path("plugins/dbdbench-selfgen/src/dbdbench_selfgen/weights")


class Pools:
    """Sources with their true masks (synth val), and the fc / fb pools; each resized whole when ``resize`` > 0."""

    def __init__(self, resize: int, val_n: int, val_size: int, blurred: str = "", seed: int = 0, pool_size: int = 384):
        from dbdbench_selfgen import data
        from dbdbench_torch.data import load_focus_masks

        from dbdbench.api import open_dataset

        val = open_dataset("synth", split="val", options={"n": val_n, "size": val_size})
        samples = val.list().samples
        self.sources = data.load([s.image for s in samples], resize=resize)
        masks = load_focus_masks([s.gt for s in samples], val.gt_polarity)
        self.masks = [_resize_mask(m, resize) for m in masks] if resize else masks
        self.clear = data.load(data.pool("", "fc", 500, pool_size, "clear"), resize=resize)
        self.blurred = data.load(data.pool(blurred, "fb", 500, pool_size, "blurred"), resize=resize)
        self.rng = np.random.default_rng(seed)

    def batch(self, crop: int, n: int = 4):
        """(T, true M, I_c, I_c', I_b, I_b') as tensors, random images and windows."""
        from dbdbench_torch.data import random_crop, to_mask_batch, to_tensor_batch

        rng, t, m = self.rng, [], []
        for _ in range(n):
            k = int(rng.integers(len(self.sources)))
            image, mask = random_crop(rng, [self.sources[k], self.masks[k]], crop)
            t.append(image)
            m.append(mask)
        return (to_tensor_batch(t), to_mask_batch(m), *self.backgrounds(n, crop))

    def backgrounds(self, n: int, crop: int, rng=None):
        """(I_c, I_c', I_b, I_b'): ``n`` random pool crops of each, drawn with ``rng`` (default: the pools' own)."""
        from dbdbench_torch.data import random_crop, to_tensor_batch

        rng = self.rng if rng is None else rng
        return tuple(
            to_tensor_batch([random_crop(rng, [pool[int(rng.integers(len(pool)))]], crop)[0] for _ in range(n)])
            for pool in (self.clear, self.clear, self.blurred, self.blurred)
        )


def load_generator(path: Path):
    """The lite G with the weights at ``path``, in eval mode."""
    from dbdbench_selfgen.model import build_generator
    from dbdbench_torch.weights import load_weights

    generator = build_generator("lite")
    load_weights(generator, path)
    return generator.eval()


def load_classifier(path: Path):
    """The lite V with the weights at ``path``, frozen (eval mode, no parameter gradient)."""
    from dbdbench_selfgen.model import build_classifier, freeze
    from dbdbench_torch.weights import load_weights

    classifier = build_classifier("lite")
    load_weights(classifier, path)
    return freeze(classifier)


def _resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(mask * 255).resize((size, size), Image.Resampling.NEAREST)) // 255


def mask_of(kind: str, side: str, generator, source, true_mask):
    import torch

    if kind == "G":
        with torch.no_grad():
            return generator(source)
    if kind == "oracle":
        return true_mask
    return torch.ones_like(true_mask) if side == "clear" else torch.zeros_like(true_mask)


def composite_pair(case: str, pools: Pools, generator, crop: int):
    """(real pool images, composites) for one case."""
    from dbdbench_selfgen import losses

    side, kind = case.split("-")
    source, true_mask, clear, clear2, blurred, blurred2 = pools.batch(crop)
    c_c, c_b = losses.composites(mask_of(kind, side, generator, source, true_mask), source, clear, blurred)
    return (clear2, c_c) if side == "clear" else (blurred2, c_b)


def probe_discriminator(case: str, seed: int, pools: Pools, generator, width: str, steps: int, crop: int) -> dict:
    """Train a fresh D for ``steps`` on (real, composite) batches of 4 + 4, then score it on 25 fresh batches."""
    import torch
    from dbdbench_selfgen import losses
    from dbdbench_selfgen.model import build_discriminator

    torch.manual_seed(seed)
    pools.rng = np.random.default_rng(seed)
    d = build_discriminator(width)
    opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    start = time.perf_counter()
    d.train()
    for _ in range(steps):
        real, fake = composite_pair(case, pools, generator, crop)
        out = d(torch.cat([real, fake]), logits=True)
        loss = losses.discriminator_loss(out[: len(real)], out[len(real) :])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    d.eval()
    right_real, right_fake = [], []
    with torch.no_grad():
        for _ in range(25):
            real, fake = composite_pair(case, pools, generator, crop)
            right_real.append(float((d(real, logits=True) > 0).float().mean()))
            right_fake.append(float((d(fake, logits=True) <= 0).float().mean()))
    acc_real, acc_fake = float(np.mean(right_real)), float(np.mean(right_fake))
    return {
        "case": case,
        "seed": seed,
        "acc_real": round(acc_real, 3),
        "acc_fake": round(acc_fake, 3),
        "balanced_accuracy": round((acc_real + acc_fake) / 2, 3),
        "wall_s": round(time.perf_counter() - start, 1),
    }


def triplet_terms(pools: Pools, generator, classifier, crop: int, batches: int = 40) -> list[dict]:
    """Mean of each L_B half over the same ``batches`` batches, per mask kind and C_b feathering (0 or 2 px)."""
    import torch
    from dbdbench_selfgen import losses

    pools.rng = np.random.default_rng(12345)
    sums: dict[tuple[str, float], np.ndarray] = {}
    with torch.no_grad():
        for _ in range(batches):
            source, true_mask, clear, clear2, blurred, blurred2 = pools.batch(crop)
            g = generator(source)
            masks = {
                "oracle": true_mask,
                "G": g,
                "G binarised (> 0.5)": (g > 0.5).float(),
                "all ones": torch.ones_like(g),
                "all zeros": torch.zeros_like(g),
            }
            for kind, mask in masks.items():
                for feather in (0.0, 2.0):
                    c_c, c_b = losses.composites(mask, source, clear, blurred, feather=feather)
                    _, lc, lb = losses.triplet_loss(classifier, c_c, clear2, c_b, blurred2)
                    sums.setdefault((kind, feather), np.zeros(3))
                    sums[(kind, feather)] += (float(lc), float(lb), float(mask.mean()))
    return [
        {
            "mask": kind,
            "feather": feather,
            "coverage": round(s[2] / batches, 3),
            "lb_clear": round(s[0] / batches, 4),
            "lb_blurred": round(s[1] / batches, 4),
        }
        for (kind, feather), s in sums.items()
    ]


def write_markdown(path: Path, record: dict) -> None:
    from dbdbench.io import atomic_write_text

    lines = [
        "# selfgen objective probe" + (f" ({record['width']} D)" if record["results"] else " (L_B only)"),
        "",
        f"Generated by `{record['command']}`; torch {record['torch']}, {record['threads']} thread(s).",
        f"Generator `{record['generator']}` (sha256 `{record['generator_sha256'][:16]}...`), classifier "
        f"`{record['classifier']}` (sha256 `{record['classifier_sha256'][:16]}...`). Sources T: synth val "
        f"(n={record['val_n']}, {record['val_size']} px), with their true masks for the oracle. Full-clear pool: "
        f"synth fc (n=500, {record.get('pool_size', 320)} px). Full-blurred pool: {record['blurred_pool']}. Crops of {record['crop']} px"
        + (f" of images resized whole to {record['resize']}." if record["resize"] else " at native scale."),
        "",
        "## L_B halves per mask (lower = judged more like a real full-clear / full-blurred image)",
        "",
        "| mask | C_b feather (px) | coverage | 1 - cos(V(C_c), V(I_c')) | 1 - cos(V(C_b), V(I_b')) | L_B |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in record["triplet"]:
        lines.append(
            f"| {r['mask']} | {r['feather']:g} | {r['coverage']:.3f} | {r['lb_clear']:.4f} | {r['lb_blurred']:.4f} | "
            f"{r['lb_clear'] + r['lb_blurred']:.4f} |"
        )
    if record["results"]:
        lines += [
            "",
            f"## A fresh D per case: {record['steps']} steps (batch 4 + 4, Adam 2e-4, beta1 0.5), then 100 fresh pairs",
            "",
            "| case | seed | D right on real | D right on composite | balanced accuracy | wall s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
    for r in record["results"]:
        lines.append(
            f"| {r['case']} | {r['seed']} | {r['acc_real']:.3f} | {r['acc_fake']:.3f} | "
            f"{r['balanced_accuracy']:.3f} | {r['wall_s']:.0f} |"
        )
    atomic_write_text(path, "\n".join(lines) + "\n")


def main() -> None:
    import torch
    from dbdbench_torch.weights import weights_digest

    from dbdbench.io import atomic_write_json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", choices=("lite", "full"), default="lite", help="the probe D's widths")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--cases", nargs="*", choices=CASES, default=list(CASES), help="D probes (none: L_B only)")
    ap.add_argument("--generator", type=Path, default=WEIGHTS / "lite.safetensors", help="G's weights (lite)")
    ap.add_argument("--classifier", type=Path, default=WEIGHTS / "lite-classifier.safetensors", help="V (lite)")
    ap.add_argument("--val-n", type=int, default=64)
    ap.add_argument("--val-size", type=int, default=384, help="the train split's size, so blur scales match")
    ap.add_argument("--pool-size", type=int, default=384, help="fc/fb pool size (the trainer's pool_size: T's scale)")
    ap.add_argument("--resize", type=int, default=0, help="resize every image whole first (0: native scale)")
    ap.add_argument("--crop", type=int, default=192)
    ap.add_argument("--blurred", default="", help="folder of full-blurred images (default: synth fb)")
    ap.add_argument("--out", default="benchmarks/results/selfgen_probe")
    args = ap.parse_args()

    generator = load_generator(args.generator)
    classifier = load_classifier(args.classifier)
    pools = Pools(args.resize, args.val_n, args.val_size, args.blurred, pool_size=args.pool_size)
    record = {
        "command": " ".join(["python benchmarks/probe_selfgen_discriminators.py", *sys.argv[1:]]),
        "width": args.width,
        "steps": args.steps,
        "crop": args.crop,
        "resize": args.resize,
        "blurred_pool": args.blurred or f"synth fb (n=500, {args.pool_size} px)",
        "pool_size": args.pool_size,
        "val_n": args.val_n,
        "val_size": args.val_size,
        "generator": str(args.generator),
        "generator_sha256": weights_digest(args.generator),
        "classifier": str(args.classifier),
        "classifier_sha256": weights_digest(args.classifier),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "triplet": triplet_terms(pools, generator, classifier, args.crop),
        "results": [],
    }
    print(record["triplet"], flush=True)
    for case in args.cases:
        for seed in args.seeds:
            result = probe_discriminator(case, seed, pools, generator, args.width, args.steps, args.crop)
            record["results"].append(result)
            print(result, flush=True)
    atomic_write_json(Path(f"{args.out}.{args.width}.json"), record)
    write_markdown(Path(f"{args.out}.{args.width}.md"), record)


if __name__ == "__main__":
    main()
