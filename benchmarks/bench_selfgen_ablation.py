"""Ablation of Zhao, Shang & Lu's adversarial stage at a short, equal budget (issue: selfgen), on synth test.

The paper's Table 1-2 settings: a single discriminator D_c (clear composites), a single D_b (blurred
composites) and both, each with the bilateral triplet-excavating term L_B; both without L_B; L_B alone (no
discriminator, the same as eta = 0); and the full method at the paper's other eta values (Table 2). Every row
trains `lite`'s generator from scratch with the same seed, with the same frozen classifier V where L_B is on,
for the same steps on the synth train photos (masks never read), then is scored on the synth test split
(protocol dbd). Since issue 24 the discriminators have no batch norm, so G's adversarial term follows the D
that was trained (the rows before that fix measured a near-random adversarial push).
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
    # Table 1: which discriminators (with L_B, as the full method)
    ("single D_c + L_B", {"discriminators": "clear", "lb": "true"}),
    ("single D_b + L_B", {"discriminators": "blurred", "lb": "true"}),
    ("D_c + D_b + L_B (full, eta 0.01)", {"discriminators": "both", "lb": "true"}),
    # the dual discriminators alone, and L_B alone
    ("D_c + D_b, no L_B", {"discriminators": "both", "lb": "false"}),
    ("L_B only (no discriminator; = eta 0)", {"discriminators": "none", "lb": "true"}),
    # Table 2: eta, the weight of the adversarial term (Eq. 6)
    ("full, eta 0.005", {"discriminators": "both", "lb": "true", "eta": "0.005"}),
    ("full, eta 0.05", {"discriminators": "both", "lb": "true", "eta": "0.05"}),
    ("full, eta 0.5", {"discriminators": "both", "lb": "true", "eta": "0.5"}),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--classifier", required=True, help="V for the rows with L_B: a stage-1 folder or weights file")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=4)
    args = ap.parse_args()
    rows = []
    for label, switches in ROWS:
        out = ROOT / "runs" / "ablation" / ("selfgen-" + "-".join(f"{k}={v}" for k, v in switches.items()))
        opts = ["stage=adversarial", "variant=lite", f"crop={args.crop}", "max_sources=600", "val_split=", "ema=0"]
        opts += [f"{k}={v}" for k, v in switches.items()]
        if switches.get("lb") == "true":
            opts.append(f"classifier={args.classifier}")
        row = train_and_score("selfgen", out, opts, args.steps, args.batch_size, ["variant=lite"])
        rows.append({"row": label, "options": opts, **row})
        print(f"{label}: f_max {row['f_max']:.4f} mae {row['mae']:.4f}", file=sys.stderr)
    intro = (
        f"Each row: `lite` generator trained {args.steps} steps x batch {args.batch_size}, {args.crop}-px crops, "
        "seed 0, from scratch, on 600 synth train photos (n=2000, 384 px; masks never read) against synth fc/fb "
        "(n=500, 384 px); "
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
