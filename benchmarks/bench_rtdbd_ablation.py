"""Ablation of Zhang & Yan's objective at a short, equal budget (issue: rtdbd), on the synth test split.

Rows: BCE only / + swap (Eq. 2) / + self-supervision (Eq. 4) / + hard mining (Eq. 6-7) = the full objective,
and BCE without the gradient input (the paper's "BCE without image gradient", at lite-plain's width). Every
row trains `lite-plain` (lite without its context branch, which is not in the paper) or `lite-nograd` from
the same seed on the synth train split for the same steps, then is scored on the synth test split (protocol
dbd). Short budgets favour nothing in particular: this shows what the objective does early in training on
synthetic data, not the paper's converged numbers.

    .venv/bin/python benchmarks/bench_rtdbd_ablation.py [--steps 200] [--crop 128]

Writes benchmarks/results/rtdbd_ablation.{json,md}; training folders go to runs/ablation/.
"""

from __future__ import annotations

import argparse
import sys

from ablation_common import ROOT, train_and_score, write_results

ROWS = [
    ("BCE", "lite-plain", {"swap": "false", "self_sup": "false", "hard_mining": "false"}),
    ("BCE + swap", "lite-plain", {"swap": "true", "self_sup": "false", "hard_mining": "false"}),
    ("BCE + swap + self-supervision", "lite-plain", {"swap": "true", "self_sup": "true", "hard_mining": "false"}),
    (
        "BCE + swap + self-supervision + hard mining (full objective)",
        "lite-plain",
        {"swap": "true", "self_sup": "true", "hard_mining": "true"},
    ),
    ("BCE without image gradient", "lite-nograd", {"swap": "false", "self_sup": "false", "hard_mining": "false"}),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args()
    rows = []
    for label, variant, switches in ROWS:
        out = ROOT / "runs" / "ablation" / (f"{variant}-" + "-".join(f"{k}={v}" for k, v in switches.items()))
        opts = [
            f"variant={variant}",
            f"crop={args.crop}",
            "patch=32",
            f"decay_steps={args.steps}",
            "warmup=20",
            "val_split=",
            *(f"{k}={v}" for k, v in switches.items()),
        ]
        row = train_and_score("rtdbd", out, opts, args.steps, args.batch_size, [f"variant={variant}"])
        rows.append({"row": label, "variant": variant, "options": opts, **row})
        print(f"{label}: f_max {row['f_max']:.4f} mae {row['mae']:.4f}", file=sys.stderr)
    intro = (
        f"Each row: `lite-plain` (`lite-nograd`) trained {args.steps} steps x batch {args.batch_size}, {args.crop}-px crops, swap patch 32, "
        "seed 0, on the synth train split (n=2000, 384 px); scored on the 200-image synth test split. "
        "Produced by `.venv/bin/python benchmarks/bench_rtdbd_ablation.py "
        f"--steps {args.steps} --crop {args.crop} --batch-size {args.batch_size}` on a 2-core CPU."
    )
    write_results(
        "rtdbd_ablation",
        rows,
        "rtdbd objective ablation (synth test split, protocol dbd)",
        intro,
        [("objective", "row"), ("variant", "variant")],
    )


if __name__ == "__main__":
    main()
