"""Probe of selfgen's objective on textureless regions: can any of its critics tell which label a flat region has?

Why: after issue 24's fixes G's masks look like edge maps (model card): it calls in-focus flat areas (paper
between lines of text, a plain painted blob) blurred. Pasting a flat patch into a clear image (C_c) or into a
blurred one (C_b) leaves both composites looking real, so Eq. 1-5 may carry no signal about flat pixels at all;
only a prior from elsewhere (a supervised label, a shape prior) could. This probe measures both halves of that
claim, with critics that never saw any generator:

1. **What the objective cannot see costs this much.** On the synth test split (GT read, nothing trained or
   chosen on it): the fraction of pixels, and of in-focus pixels, whose local gradient energy is below a
   threshold tau (tau = the q-quantile of the split's energy), and the dbd-protocol f_max / MAE of the true mask
   with its flat in-focus pixels called blurred (what G does). Flat *blurred* pixels are left alone: most are
   flat because they are blurred, which the critics can see.
2. **Does the objective prefer the truth there?** On synth val crops (the split the trainer already reads for
   checkpoints), for the true mask and the same changed masks: both halves of L_B (Eq. 5, C_b feathered 2 px)
   under the shipped V, and the probability of "real" that a D_c and a D_b give their composites. The two D's
   are trained here from scratch on pool images only (the trainer's ``d_warmup``: random blob masks,
   seam-matched reals, feather 2), so they are blur detectors that no mask under test influenced. If the
   changed masks score like the truth while the controls (all ones / all zeros) do not, the objective is
   indifferent to flat pixels.

    .venv/bin/python benchmarks/probe_selfgen_flat.py [--d-steps 1000] [--quantiles 0.1 0.2 0.3 0.4] \
        [--classifier W] [--generator W] [--out benchmarks/results/selfgen_flat]

Writes ``OUT.json`` and ``OUT.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

WEIGHTS = Path("plugins/dbdbench-selfgen/src/dbdbench_selfgen/weights")
FEATHER = 2.0


def texture(images):
    """Local gradient energy, B x 1 x H x W: sqrt of the Gaussian-weighted (sigma 2 px) mean of |grad gray|^2,
    gray = the mean of RGB in [0, 1], central differences."""
    import torch
    from dbdbench_selfgen.losses import feathered
    from torch.nn import functional as F

    gray = images.mean(dim=1, keepdim=True)
    padded = F.pad(gray, (1, 1, 1, 1), mode="replicate")
    gx = 0.5 * (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2])
    gy = 0.5 * (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1])
    return torch.sqrt(feathered(gx * gx + gy * gy, 2.0).clamp_min(0.0))


CHANGED = "flat in focus -> blurred"


def changed_mask(true_mask, flat):
    """The true mask (1 = in focus) with its flat in-focus pixels called blurred."""
    return true_mask * (1.0 - flat)


def test_split_costs(quantiles: list[float]) -> tuple[list[dict], dict[float, float]]:
    """Part 1 on the synth test split: flat fractions and the scores of the changed true masks, per quantile."""
    import torch
    from dbdbench_torch.data import load_focus_masks, load_images, to_tensor_batch

    from dbdbench.api import open_dataset
    from dbdbench.metrics import Evaluator
    from dbdbench.metrics.pair import prepare
    from dbdbench.protocols import get_protocol

    ds = open_dataset("synth", split="test")
    samples = ds.list().samples
    images = load_images([s.image for s in samples])
    masks = load_focus_masks([s.gt for s in samples], ds.gt_polarity)
    energies = [texture(to_tensor_batch([im]))[0, 0].numpy() for im in images]
    taus = {q: float(np.quantile(np.concatenate([e.ravel() for e in energies]), q)) for q in quantiles}
    protocol = get_protocol("dbd")
    rows = []
    for q, tau in taus.items():
        ev = Evaluator(protocol)
        flat_px = focus_px = flat_focus_px = total = 0
        for sample, mask, energy in zip(samples, masks, energies):
            flat = energy < tau
            focus = mask.astype(bool)
            flat_px += int(flat.sum())
            focus_px += int(focus.sum())
            flat_focus_px += int((flat & focus).sum())
            total += flat.size
            gt_raw = focus.astype(np.float64) * 255.0
            changed = changed_mask(
                torch.from_numpy(focus.astype(np.float32)), torch.from_numpy(flat.astype(np.float32))
            )
            ev.step(sample.stem, prepare(changed.numpy() * 255.0, gt_raw, protocol))
        row = {
            "quantile": q,
            "tau": round(tau, 5),
            "flat_fraction": round(flat_px / total, 4),
            "in_focus_flat_fraction": round(flat_focus_px / max(focus_px, 1), 4),
        }
        metrics = ev.results()["metrics"]
        row[CHANGED] = {"f_max": round(metrics["f_max"], 4), "mae": round(metrics["mae"], 4)}
        rows.append(row)
        print(row, flush=True)
    return rows, taus


def pool_discriminators(pools, steps: int, crop: int, seed: int):
    """D_c and D_b trained from scratch on pool images only, as the trainer's warm-up does."""
    import torch
    from dbdbench_selfgen import losses
    from dbdbench_selfgen.model import build_discriminator
    from dbdbench_selfgen.train import discriminator_step

    torch.manual_seed(seed)
    pools.rng = np.random.default_rng(seed)
    d_c, d_b = build_discriminator("lite"), build_discriminator("lite")
    opts = [torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999)) for d in (d_c, d_b)]
    gen = torch.Generator().manual_seed(seed)
    losses_seen: list[tuple[float, float]] = []
    for _ in range(steps):
        _, _, clear, clear2, blurred, blurred2 = pools.batch(crop)
        mask = losses.random_masks(clear.shape[0], crop, gen)
        pair_c, pair_b = losses.warmup_pairs(mask, clear, clear2, blurred, blurred2, FEATHER)
        a = discriminator_step(d_c, opts[0], *pair_c)
        b = discriminator_step(d_b, opts[1], *pair_b)
        losses_seen.append((a["loss"], b["loss"]))
    d_c.eval()
    d_b.eval()
    tail = np.array(losses_seen[-100:])
    return (
        d_c,
        d_b,
        {
            "d_c_loss_last100": round(float(tail[:, 0].mean()), 4),
            "d_b_loss_last100": round(float(tail[:, 1].mean()), 4),
        },
    )


def objective_terms(pools, taus, generator, classifier, d_c, d_b, crop: int, batches: int) -> list[dict]:
    """Part 2 on synth val crops: L_B halves and D(real) per mask, all on the same batches."""
    import torch
    from dbdbench_selfgen import losses

    pools.rng = np.random.default_rng(12345)
    sums: dict[str, np.ndarray] = {}
    order: list[str] = []
    with torch.no_grad():
        for _ in range(batches):
            source, true_mask, clear, clear2, blurred, blurred2 = pools.batch(crop)
            energy = texture(source)
            masks = {"true mask": true_mask}
            for q, tau in taus.items():
                flat = (energy < tau).float()
                masks[f"{CHANGED} (q={q:g})"] = changed_mask(true_mask, flat)
            masks["shipped G"] = generator(source)
            masks["all ones"] = torch.ones_like(true_mask)
            masks["all zeros"] = torch.zeros_like(true_mask)
            for kind, mask in masks.items():
                c_c, c_b = losses.composites(mask, source, clear, blurred, feather=FEATHER)
                _, lc, lb = losses.triplet_loss(classifier, c_c, clear2, c_b, blurred2)
                p_c = float(torch.sigmoid(d_c(c_c, logits=True)).mean())
                p_b = float(torch.sigmoid(d_b(c_b, logits=True)).mean())
                if kind not in sums:
                    sums[kind] = np.zeros(5)
                    order.append(kind)
                sums[kind] += (float(mask.mean()), float(lc), float(lb), p_c, p_b)
            real_c = float(torch.sigmoid(d_c(clear2, logits=True)).mean())
            real_b = float(torch.sigmoid(d_b(blurred2, logits=True)).mean())
            sums.setdefault("(a real pool image)", np.zeros(5))
            sums["(a real pool image)"] += (float("nan"), 0.0, 0.0, real_c, real_b)
    order.append("(a real pool image)")
    rows = []
    for kind in order:
        s = sums[kind] / batches
        rows.append(
            {
                "mask": kind,
                "coverage": None if np.isnan(s[0]) else round(float(s[0]), 3),
                "lb_clear": round(float(s[1]), 4),
                "lb_blurred": round(float(s[2]), 4),
                "d_c_real": round(float(s[3]), 3),
                "d_b_real": round(float(s[4]), 3),
            }
        )
    return rows


def shared_arguments(ap: argparse.ArgumentParser, out: str) -> None:
    """The options this probe and ``probe_selfgen_optimum.py`` share: crops, seed, V, the val split, output."""
    ap.add_argument("--crop", type=int, default=128, help="the trainer's crop")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--classifier", type=Path, default=WEIGHTS / "lite-classifier.safetensors")
    ap.add_argument("--val-n", type=int, default=64)
    ap.add_argument("--val-size", type=int, default=384, help="the train split's size, so blur scales match")
    ap.add_argument("--out", default=out)


def write_markdown(path: Path, record: dict) -> None:
    from dbdbench.io import atomic_write_text

    lines = [
        "# selfgen objective probe: textureless regions",
        "",
        f"Generated by `{record['command']}`; torch {record['torch']}, {record['threads']} thread(s), "
        f"{record['wall_s']:.0f} s.",
        "Texture = local gradient energy (sqrt of the Gaussian-weighted mean, sigma 2 px, of |grad gray|^2); "
        "a pixel is flat when its energy is below tau, the q-quantile of the synth test split's energies.",
        "",
        "## 1. What flat pixels cost (synth test, 200 images, protocol `dbd`; the true mask scores 1.000 / 0.000)",
        "",
        f"| q | tau | flat pixels | in-focus pixels that are flat | {CHANGED}: f_max / MAE |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in record["test"]:
        a = r[CHANGED]
        lines.append(
            f"| {r['quantile']:g} | {r['tau']:.4f} | {r['flat_fraction']:.3f} | {r['in_focus_flat_fraction']:.3f} | "
            f"{a['f_max']:.3f} / {a['mae']:.3f} |"
        )
    d = record["discriminators"]
    lines += [
        "",
        f"## 2. The objective per mask (synth val n={record['val_n']} at {record['val_size']} px, "
        f"{record['batches']} batches of 4 crops of {record['crop']} px; C_b feathered {FEATHER:g} px)",
        "",
        f"L_B halves under V `{record['classifier']}` (sha256 `{record['classifier_sha256'][:16]}...`): lower = "
        'more like a real full-clear / full-blurred image. D(real): the mean probability of "real" that D_c '
        f"gives C_c and D_b gives C_b; the two D's were trained {record['d_steps']} steps from scratch on pool "
        f"images only (random blob masks, seam-matched reals; last-100-step losses D_c {d['d_c_loss_last100']}, "
        f"D_b {d['d_b_loss_last100']}; ln 2 = 0.693 is chance). `shipped G` is `{record['generator']}`, for "
        "reference.",
        "",
        "| mask | coverage | L_B clear half | L_B blurred half | L_B | D_c(real) of C_c | D_b(real) of C_b |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in record["objective"]:
        if r["coverage"] is None:
            cov, lb = "-", "- | - | -"
        else:
            cov = f"{r['coverage']:.3f}"
            lb = f"{r['lb_clear']:.4f} | {r['lb_blurred']:.4f} | {r['lb_clear'] + r['lb_blurred']:.4f}"
        lines.append(f"| {r['mask']} | {cov} | {lb} | {r['d_c_real']:.3f} | {r['d_b_real']:.3f} |")
    atomic_write_text(path, "\n".join(lines) + "\n")


def main() -> None:
    import torch
    from dbdbench_torch.weights import weights_digest
    from probe_selfgen_discriminators import Pools, load_classifier, load_generator

    from dbdbench.io import atomic_write_json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quantiles", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4])
    ap.add_argument("--d-steps", type=int, default=1000, help="steps of the pool-only D_c and D_b")
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--generator", type=Path, default=WEIGHTS / "lite.safetensors")
    shared_arguments(ap, "benchmarks/results/selfgen_flat")
    args = ap.parse_args()

    start = time.perf_counter()
    test_rows, taus = test_split_costs(args.quantiles)
    generator = load_generator(args.generator)
    classifier = load_classifier(args.classifier)
    pools = Pools(0, args.val_n, args.val_size, pool_size=384, seed=args.seed)
    d_c, d_b, d_info = pool_discriminators(pools, args.d_steps, args.crop, args.seed)
    print(d_info, flush=True)
    objective = objective_terms(pools, taus, generator, classifier, d_c, d_b, args.crop, args.batches)
    for row in objective:
        print(row, flush=True)
    record = {
        "command": " ".join(["python benchmarks/probe_selfgen_flat.py", *sys.argv[1:]]),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "quantiles": args.quantiles,
        "taus": {str(q): t for q, t in taus.items()},
        "test": test_rows,
        "d_steps": args.d_steps,
        "discriminators": d_info,
        "batches": args.batches,
        "crop": args.crop,
        "val_n": args.val_n,
        "val_size": args.val_size,
        "generator": str(args.generator),
        "generator_sha256": weights_digest(args.generator),
        "classifier": str(args.classifier),
        "classifier_sha256": weights_digest(args.classifier),
        "objective": objective,
        "wall_s": round(time.perf_counter() - start, 1),
    }
    atomic_write_json(Path(f"{args.out}.json"), record)
    write_markdown(Path(f"{args.out}.md"), record)


if __name__ == "__main__":
    main()
