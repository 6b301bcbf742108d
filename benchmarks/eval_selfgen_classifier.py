"""Held-out accuracy of a selfgen stage-1 classifier V (issue 24: "make V stronger ... report it").

V's file records the options it was trained with; this rebuilds stage 1's held-out crops from them (the last
``holdout`` images of each pool, the crops the trainer's own validation uses, never trained on) and reports
V's accuracy per class. The mixed class is the hard one: a crop of a partially blurred photo can be all
sharp or all blurred, so image-level labels put a ceiling below 1 on it.

    .venv/bin/python benchmarks/eval_selfgen_classifier.py [--classifier FILE] [--name lite-classifier]

Writes benchmarks/results/selfgen_classifier.<name>.{json,md}. Reads no ground truth.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _shown(path: Path) -> str:
    """The path relative to the repository when it lies inside it, else as given."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main() -> None:
    import torch
    from dbdbench_selfgen.method import SelfGen
    from dbdbench_selfgen.train import ClassifierTask, resolve
    from dbdbench_torch.distributed import Context
    from dbdbench_torch.weights import load_weights, weights_digest
    from safetensors import safe_open

    from dbdbench.api import open_dataset
    from dbdbench.training import TrainRequest

    ap = argparse.ArgumentParser()
    ap.add_argument("--classifier", default=str(SelfGen.packaged.path("lite-classifier")) if SelfGen.packaged else None)
    ap.add_argument("--name", default="lite-classifier")
    args = ap.parse_args()
    torch.manual_seed(0)
    with safe_open(args.classifier, "pt") as fh:
        meta = fh.metadata()
    saved = json.loads(meta["options"])
    pools = saved.pop("pools")
    saved.pop("batch_size")
    src = pools["sources"]
    dataset = open_dataset("synth", split=src["split"], options={"n": src["n"], "size": src["size"]})
    cfg = resolve({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in saved.items()})
    request = TrainRequest(method_id="selfgen", dataset=dataset, out=Path("/nonexistent"), seed=0)
    t0 = time.time()
    task = ClassifierTask(request, cfg, batch_size=1)
    task.setup(Context(torch.device("cpu")))
    load_weights(task.net, args.classifier)
    scores = task.validate()
    assert scores is not None
    row = {
        "classifier": _shown(Path(args.classifier)),
        "weights_sha256": weights_digest(args.classifier),
        "trained_step": meta.get("step"),
        "crop": cfg["crop"],
        "holdout_per_class": cfg["holdout"],
        **{k: round(v, 4) for k, v in scores.items() if k != "score"},
        "wall_s": round(time.time() - t0, 1),
    }
    out = ROOT / "benchmarks" / "results" / f"selfgen_classifier.{args.name}"
    Path(f"{out}.json").write_text(json.dumps(row, indent=2) + "\n")
    lines = [
        f"# selfgen classifier V: held-out accuracy ({args.name})",
        "",
        f"V = `{row['classifier']}` (weights_sha256 `{row['weights_sha256'][:16]}...`, stage 1 step "
        f"{row['trained_step']}); {row['holdout_per_class']} held-out images per class (the last of each pool, "
        f"never trained on), one {row['crop']}-px crop each, as stage 1's own validation. Produced by "
        f"`.venv/bin/python benchmarks/eval_selfgen_classifier.py --classifier {row['classifier']} --name {args.name}` "
        "on a 2-core CPU.",
        "",
        "| accuracy | full clear | full blurred | mixed |",
        "|---:|---:|---:|---:|",
        f"| {row['accuracy']:.4f} | {row['acc_clear']:.4f} | {row['acc_blurred']:.4f} | {row['acc_mixed']:.4f} |",
    ]
    Path(f"{out}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
