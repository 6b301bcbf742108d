"""Ablation of Zhao, Shang & Lu's adversarial stage at a short, equal budget (issue: selfgen), on synth test.

The paper's Table 1-2 settings: a single discriminator D_c (clear composites), a single D_b (blurred
composites), both without the bilateral triplet-excavating term L_B, and both with it (the full method);
plus L_B alone (no discriminator), which shows what the frozen classifier contributes by itself. Every row
trains `lite`'s generator from the same seed, with the same frozen classifier V where L_B is on, for the same
steps on the synth train photos (masks never read), then is scored on the synth test split (protocol dbd).
A short budget shows what each part does early in training on synthetic data, not the paper's converged
numbers; GAN runs this short are noisy, so read differences of a few points as ties. The rows export the last
G (``ema=0``): the weight averaging of the shipped recipe is dbdbench's addition, not one of the paper's terms.

    .venv/bin/python benchmarks/bench_selfgen_ablation.py --classifier runs/train/selfgen-classifier-lite-c192 \
        [--steps 150] [--crop 128]

Writes benchmarks/results/selfgen_ablation.{json,md}; training folders go to runs/ablation/.
"""

from __future__ import annotations

import argparse
import sys

from ablation_common import ROOT, train_and_score, write_results

ROWS = [
    ("single D_c", {"discriminators": "clear", "lb": "false"}),
    ("single D_b", {"discriminators": "blurred", "lb": "false"}),
    ("D_c + D_b", {"discriminators": "both", "lb": "false"}),
    ("L_B only (no discriminator)", {"discriminators": "none", "lb": "true"}),
    ("D_c + D_b + L_B (full)", {"discriminators": "both", "lb": "true"}),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--classifier", required=True, help="V for the rows with L_B: a stage-1 folder or weights file")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=4)
    args = ap.parse_args()
    rows = []
    for label, switches in ROWS:
        out = ROOT / "runs" / "ablation" / ("selfgen-" + "-".join(f"{k}={v}" for k, v in switches.items()))
        opts = ["stage=adversarial", "variant=lite", f"crop={args.crop}", "max_sources=600", "val_split=", "ema=0"]
        opts += [f"{k}={v}" for k, v in switches.items()]
        if switches["lb"] == "true":
            opts.append(f"classifier={args.classifier}")
        row = train_and_score("selfgen", out, opts, args.steps, args.batch_size, ["variant=lite"])
        rows.append({"row": label, "options": opts, **row})
        print(f"{label}: f_max {row['f_max']:.4f} mae {row['mae']:.4f}", file=sys.stderr)
    intro = (
        f"Each row: `lite` generator trained {args.steps} steps x batch {args.batch_size}, {args.crop}-px crops, "
        "seed 0, on 600 synth train photos (n=2000, 384 px; masks never read) against synth fc/fb (n=500, 320 px); "
        f"V = `{args.classifier}` where L_B is on; scored on the 200-image synth test split. Produced by "
        f"`.venv/bin/python benchmarks/bench_selfgen_ablation.py --classifier {args.classifier} --steps {args.steps} "
        f"--crop {args.crop} --batch-size {args.batch_size}` on a 2-core CPU."
    )
    write_results(
        "selfgen_ablation",
        rows,
        "selfgen ablation (synth test split, protocol dbd)",
        intro,
        [("setting", "row")],
    )


if __name__ == "__main__":
    main()
