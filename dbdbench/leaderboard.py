"""Leaderboard markdown from result files: accuracy and timing in separate tables.

Accuracy depends only on maps and protocol; timing depends on the machine. Kept
apart (as timm does), so a timing table always names its device and a reader
never compares a GPU latency with a CPU one by accident.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .metrics import METRICS


def collect_results(
    runs_dir: str | Path, *, result_name: str = "result", dataset: str | None = None
) -> tuple[list[dict[str, Any]], list[tuple[Path, str]]]:
    """Every ``<runs>/<method>/<dataset>/<result_name>.json``, sorted by dataset then f_max.

    Returns the results and the files left out (torn, or not a dbdbench result), each with the reason.
    """
    runs_dir = Path(runs_dir)
    found, unreadable = [], []
    for path in sorted(runs_dir.glob(f"*/*/{result_name}.json")):
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            unreadable.append((path, f"unreadable ({type(exc).__name__})"))
            continue
        if not _looks_like_result(result):
            unreadable.append((path, "not a dbdbench result (missing protocol, dataset, method or metrics)"))
            continue
        if dataset and result["dataset"].get("name") != dataset:
            continue
        result["_path"] = str(path)
        found.append(result)
    found.sort(key=lambda r: (r["dataset"]["name"], r["dataset"].get("split") or "", r["protocol"]["name"], -r["metrics"]["f_max"]))
    return found, unreadable


def _looks_like_result(result: Any) -> bool:
    if not isinstance(result, dict):
        return False
    parts = [result.get(k) for k in ("protocol", "dataset", "method", "metrics", "environment")]
    if not all(isinstance(p, dict) for p in parts):
        return False
    metrics = result["metrics"]
    return (
        "name" in result["dataset"] and "name" in result["protocol"] and isinstance(result.get("n_images"), int)
        and all(isinstance(metrics.get(k), (int, float)) for k in METRICS)
    )


def render_markdown(results: list[dict[str, Any]]) -> str:
    if not results:
        return "_No results found._\n"
    lines: list[str] = []
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        key = (r["dataset"]["name"], r["dataset"].get("split"), r["protocol"]["name"], r["dataset"].get("file_list_hash"))
        groups.setdefault(key, []).append(r)
    arrows = {k: ("↑" if better == "higher" else "↓") for k, (_, better) in METRICS.items()}
    for (name, split, protocol, file_hash), rows in groups.items():
        lines.append(f"## {name} ({split}), protocol `{protocol}`\n")
        lines.append(f"{rows[0]['n_images']} images, file list hash `{file_hash}`. {rows[0]['protocol']['description']}\n")
        header = ["method", "kind"] + [f"{k} {arrows[k]}" for k in ("f_max", "f_mean", "f_adaptive", "f_fixed", "mae")]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for r in rows:
            m = r["metrics"]
            lines.append(
                f"| {r['method'].get('id')} | {r['method'].get('kind', '-')} | "
                + " | ".join(f"{m[k]:.3f}" for k in ("f_max", "f_mean", "f_adaptive", "f_fixed", "mae"))
                + " |"
            )
        lines.append("")
        timed = [r for r in rows if r.get("timing")]
        if timed:
            lines.append("Timing (predict call per image, warm-up excluded):\n")
            lines.append("| method | device | ms/image (mean) | ms/image (median) | images | machine |")
            lines.append("|---|---|---|---|---|---|")
            for r in timed:
                t, env = r["timing"], r["environment"]
                machine = env.get("gpu") or f"{env.get('cpu')} ({env.get('threads')} threads)"
                lines.append(
                    f"| {r['method'].get('id')} | {env.get('device')} | {t['mean_s'] * 1000:.1f} | {t['median_s'] * 1000:.1f} | {t['images_timed']} | {machine} |"
                )
            lines.append("")
        revs = sorted({str(r["environment"].get("git_revision")) for r in rows})
        lines.append(f"Produced by `dbdbench run` (dbdbench {rows[0]['environment'].get('dbdbench')}, git {', '.join(revs)}); re-run the commands in each result's `command` field.\n")
    return "\n".join(lines)
