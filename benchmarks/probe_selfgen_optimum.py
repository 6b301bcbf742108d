"""Where does selfgen's objective lead a mask that is free to move? The objective's own optimum, without G.

Why: every run of G (from scratch, with the fixed branch, with a warm-up for D) levels off near f_max 0.6 on
synth val. Either G fails to reach what the objective asks for, or the objective does not ask for the truth.
This probe separates the two. For a fixed set of synth val crops it optimises the masks themselves, one free
mask per crop (logits on a 1/stride grid, bilinearly upsampled: smooth like G's, not free to form adversarial
pixel patterns), by Adam on the trainer's objective (Eq. 1-6 with the mask regularisers, C_b feathered 2 px,
fresh pool images each step), against fixed critics that no mask under test influenced:

* V: the shipped classifier (or ``--classifier``), frozen;
* D_c, D_b: trained from scratch on pool images only (the trainer's ``d_warmup``: random blob masks,
  seam-matched reals), then frozen; or, with ``--adapt``, still learning, one step per mask step on the
  composites of the moving masks (the game the trainer plays, with masks in place of G).

It starts once from a blank mask (0.5 everywhere) and once from the true mask, and reports the dbd-protocol
f_max / MAE of the masks against the truth as they move, with the objective's value. If the blank start
climbs towards the truth, the objective points there and G is what falls short; if the true start walks away
from the truth, the objective's optimum lies elsewhere.

    .venv/bin/python benchmarks/probe_selfgen_optimum.py [--crops 32] [--steps 300] [--eta 0.5] \
        [--d-steps 1000] [--classifier W] [--out benchmarks/results/selfgen_optimum]

Writes ``OUT.json`` and ``OUT.md``.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

FEATHER = 2.0


def scores(masks, truth) -> dict[str, float]:
    """dbd-protocol f_max and MAE of soft masks (K x 1 x H x W, 1 = in focus) against 0/1 truth, per crop."""
    from dbdbench.metrics import Evaluator
    from dbdbench.metrics.pair import prepare
    from dbdbench.protocols import get_protocol

    protocol = get_protocol("dbd")
    ev = Evaluator(protocol)
    for k, (m, t) in enumerate(zip(masks[:, 0].detach().numpy(), truth[:, 0].numpy())):
        if t.any() and not t.all():  # f on a crop with one class only is degenerate
            ev.step(str(k), prepare(m * 255.0, t * 255.0, protocol))
    metrics = ev.results()["metrics"]
    return {"f_max": round(metrics["f_max"], 4), "mae": round(metrics["mae"], 4)}


def objective(mask, source, clear, clear2, blurred, blurred2, classifier, d_c, d_b, eta: float):
    """The trainer's G objective for given masks (``train.AdversarialTask.train_step``), and its parts."""
    from dbdbench_selfgen import losses
    from dbdbench_selfgen.train import adversarial_term

    c_c, c_b = losses.composites(mask, source, clear, blurred, feather=FEATHER)
    adv_c, adv_b = adversarial_term(d_c, c_c), adversarial_term(d_b, c_b)
    lb, _, _ = losses.triplet_loss(classifier, c_c, clear2, c_b, blurred2)
    reg = losses.coverage_loss(mask) + losses.binarization_loss(mask)
    total = eta * (adv_c + adv_b) + lb + reg
    parts = {"adv_c": adv_c, "adv_b": adv_b, "lb": lb, "total": total}
    return total, {k: float(v.detach()) for k, v in parts.items()}


def optimise(start: str, crops, pools, rng, classifier, d_c, d_b, args) -> list[dict]:
    """Adam on the masks from ``start``; every step's pool crops drawn with ``rng``."""
    import torch
    from torch.nn import functional as F

    source, truth = crops
    k, _, h, w = truth.shape
    grid = (h // args.stride, w // args.stride)
    if start == "blank":
        logits = torch.zeros(k, 1, *grid)
    else:
        small = F.interpolate(truth.float(), size=grid, mode="area")
        logits = small.clamp(0.02, 0.98).logit()
    logits = logits.clone().requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=args.lr)
    if args.adapt:  # each start plays against its own copy of the critics, which keep learning
        d_c, d_b = copy.deepcopy(d_c).requires_grad_(True), copy.deepcopy(d_b).requires_grad_(True)
        d_opts = [torch.optim.Adam(d.parameters(), lr=args.d_lr, betas=(0.5, 0.999)) for d in (d_c, d_b)]
    trace = []
    for step in range(args.steps + 1):
        mask = torch.sigmoid(F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False))
        clear, clear2, blurred, blurred2 = pools.backgrounds(k, h, rng)
        total, parts = objective(mask, source, clear, clear2, blurred, blurred2, classifier, d_c, d_b, args.eta)
        if step % args.report_every == 0:
            row = {"start": start, "step": step, **parts, "coverage": round(float(mask.detach().mean()), 3)}
            row.update(scores(mask, truth))
            trace.append(row)
            print(row, flush=True)
        if step == args.steps:
            break
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        if args.adapt:
            critics_step(mask.detach(), source, clear, clear2, blurred, blurred2, d_c, d_b, d_opts)
    return trace


def critics_step(mask, source, clear, clear2, blurred, blurred2, d_c, d_b, d_opts) -> None:
    """One step of each D on (seam-matched real, composite), as the trainer's ``matched_reals``."""
    from dbdbench_selfgen import losses
    from dbdbench_selfgen.train import discriminator_step

    pair_c, pair_b = losses.matched_pairs(mask, source, clear, clear2, blurred, blurred2, FEATHER)
    discriminator_step(d_c, d_opts[0], *pair_c)
    discriminator_step(d_b, d_opts[1], *pair_b)


def write_markdown(path: Path, record: dict) -> None:
    from dbdbench.io import atomic_write_text

    d = record["discriminators"]
    lines = [
        "# selfgen objective probe: the optimum of a free mask",
        "",
        f"Generated by `{record['command']}`; torch {record['torch']}, {record['threads']} thread(s), "
        f"{record['wall_s']:.0f} s.",
        f"{record['crops']} crops of {record['crop']} px from synth val (n={record['val_n']}, {record['val_size']} px), "
        f"each with one mask: logits on a 1/{record['stride']} grid, bilinearly upsampled, Adam lr {record['lr']}, "
        f"{record['steps']} steps. Objective: eta {record['eta']:g} x (adv_c + adv_b) + L_B + coverage + "
        f"binarisation, C_b feathered {FEATHER:g} px, fresh pool crops each step. V `{record['classifier']}` "
        f"(sha256 `{record['classifier_sha256'][:16]}...`); D_c, D_b trained {record['d_steps']} steps on pool "
        f"images only (last-100-step losses {d['d_c_loss_last100']} / {d['d_b_loss_last100']}; ln 2 = 0.693 is "
        "chance), then "
        + (
            f"kept learning, one step each per mask step (Adam {record['d_lr']:g}, seam-matched reals; each start "
            "with its own copy)"
            if record["adapt"]
            else "frozen"
        )
        + ". f_max / MAE: protocol `dbd` against the true masks of the crops (crops with one "
        "class only left out).",
        "",
        f"The true masks themselves: objective {record['truth']['total']:.4f} (adv_c {record['truth']['adv_c']:.4f}, "
        f"adv_b {record['truth']['adv_b']:.4f}, L_B {record['truth']['lb']:.4f}).",
        "",
        "| start | step | objective | adv_c | adv_b | L_B | coverage | f_max | MAE |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in record["trace"]:
        lines.append(
            f"| {r['start']} | {r['step']} | {r['total']:.4f} | {r['adv_c']:.4f} | {r['adv_b']:.4f} | {r['lb']:.4f} | "
            f"{r['coverage']:.3f} | {r['f_max']:.3f} | {r['mae']:.3f} |"
        )
    atomic_write_text(path, "\n".join(lines) + "\n")


def main() -> None:
    import torch
    from dbdbench_torch.weights import weights_digest
    from probe_selfgen_discriminators import Pools, load_classifier
    from probe_selfgen_flat import pool_discriminators, shared_arguments

    from dbdbench.io import atomic_write_json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crops", type=int, default=32)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--report-every", type=int, default=50)
    ap.add_argument("--stride", type=int, default=4, help="the mask's logits live on a 1/stride grid")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--eta", type=float, default=0.5)
    ap.add_argument("--d-steps", type=int, default=1000)
    ap.add_argument("--adapt", action="store_true", help="the critics keep learning (one step per mask step)")
    ap.add_argument("--d-lr", type=float, default=2e-4, help="their rate with --adapt (the trainer's d_lr)")
    shared_arguments(ap, "benchmarks/results/selfgen_optimum")
    args = ap.parse_args()

    start = time.perf_counter()
    torch.manual_seed(args.seed)
    classifier = load_classifier(args.classifier)
    pools = Pools(0, args.val_n, args.val_size, pool_size=384, seed=args.seed)
    d_c, d_b, d_info = pool_discriminators(pools, args.d_steps, args.crop, args.seed)
    for d in (d_c, d_b):
        d.requires_grad_(False)
    print(d_info, flush=True)
    pools.rng = np.random.default_rng(args.seed + 2)
    source, truth = [], []
    for _ in range(args.crops // 4):
        t, m, *_ = pools.batch(args.crop)
        source.append(t)
        truth.append(m)
    crops = (torch.cat(source), torch.cat(truth).float())
    with torch.no_grad():
        backgrounds = pools.backgrounds(args.crops, args.crop, np.random.default_rng(args.seed + 3))
        _, truth_parts = objective(crops[1], crops[0], *backgrounds, classifier, d_c, d_b, args.eta)
    trace = []
    for begin in ("blank", "truth"):  # both starts see the same sequence of pool crops
        rng = np.random.default_rng(args.seed + 4)
        trace += optimise(begin, crops, pools, rng, classifier, d_c, d_b, args)
    record = {
        "command": " ".join(["python benchmarks/probe_selfgen_optimum.py", *sys.argv[1:]]),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        **{
            k: getattr(args, k)
            for k in ("crops", "crop", "steps", "stride", "lr", "eta", "d_steps", "adapt", "d_lr", "val_n", "val_size")
        },
        "classifier": str(args.classifier),
        "classifier_sha256": weights_digest(args.classifier),
        "discriminators": d_info,
        "truth": truth_parts,
        "trace": trace,
        "wall_s": round(time.perf_counter() - start, 1),
    }
    atomic_write_json(Path(f"{args.out}.json"), record)
    write_markdown(Path(f"{args.out}.md"), record)


if __name__ == "__main__":
    main()
