"""What both learned methods' ablation benchmarks share: train one row for a fixed budget, score it on synth test.

Each row is a `dbdbench train` run (resumed when its folder already holds a checkpoint, so an interrupted
ablation continues) followed by `dbdbench run` of its weights on the 200-image synth test split, protocol dbd.
The commands are recorded with the numbers so a row can be re-run by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DBDBENCH = [sys.executable, "-m", "dbdbench"]
TRAIN_DATA = ["--dataset", "synth", "--dataset-option", "n=2000", "--dataset-option", "size=384"]


def train_and_score(
    method: str, out: Path, options: list[str], steps: int, batch_size: int, run_options: list[str]
) -> dict:
    """Train ``method`` into ``out`` with ``--option`` values ``options``; score its weights on synth test."""
    train = [*DBDBENCH, "train", "--method", method, *TRAIN_DATA, "--steps", str(steps)]
    train += ["--batch-size", str(batch_size), "--out", str(out), *[x for o in options for x in ("--option", o)]]
    if (out / "checkpoints" / "last.pt").exists():
        train.append("--resume")
    t0 = time.time()
    subprocess.run(train, check=True, cwd=ROOT)
    wall = time.time() - t0
    run = [*DBDBENCH, "run", "--method", method, "--dataset", "synth"]
    run += [x for o in [*run_options, f"weights={out / 'weights.safetensors'}"] for x in ("--option", o)]
    run += ["--out", str(ROOT / "runs" / "ablation" / "eval"), "--json"]
    result = json.loads(subprocess.run(run, check=True, cwd=ROOT, capture_output=True, text=True).stdout)
    m = result["metrics"]
    return {
        "steps": steps,
        "train_wall_s": round(wall, 1),
        "f_max": m["f_max"],
        "mae": m["mae"],
        "f_mean": m["f_mean"],
        "train_command": "dbdbench " + " ".join(train[3:]),
        "eval_command": "dbdbench " + " ".join(run[3:]),
    }


def write_results(name: str, rows: list[dict], title: str, intro: str, columns: list[tuple[str, str]]) -> None:
    """benchmarks/results/<name>.{json,md}: the rows, and a table of ``columns`` (header, row key) + metrics."""
    out_dir = ROOT / "benchmarks" / "results"
    (out_dir / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
    head = [h for h, _ in columns] + ["f_max ↑", "MAE ↓", "f_mean ↑", "training wall time (s)"]
    lines = [f"# {title}", "", intro, "", "| " + " | ".join(head) + " |"]
    lines.append("|" + "---|" * len(columns) + "---:|---:|---:|---:|")
    for r in rows:
        cells = [str(r[k]) for _, k in columns]
        cells += [f"{r['f_max']:.4f}", f"{r['mae']:.4f}", f"{r['f_mean']:.4f}", str(r["train_wall_s"])]
        lines.append("| " + " | ".join(cells) + " |")
    (out_dir / f"{name}.md").write_text("\n".join(lines) + "\n")
