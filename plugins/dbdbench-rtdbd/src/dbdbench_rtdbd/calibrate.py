"""Sharpen a trained network's maps by one logit temperature fitted on the ``synth`` val split.

``python -m dbdbench_rtdbd.calibrate IN.safetensors OUT.safetensors [--val-n 64] [--val-size 640]``
``python -m dbdbench_rtdbd.calibrate --undo IN.safetensors OUT.safetensors`` (divide the temperature back out)

Why: BCE-trained networks hedge where they are unsure, and a grey 0.5 costs MAE 0.5 on either class.
F-measure curves do not care (a monotone rescaling of the map only relabels the 256 thresholds), MAE does.
Multiplying the logits by ``t > 1`` (``sigmoid(t z)``) is one number, chosen on synthetic validation data
like the checkpoint itself, and it folds exactly into the 1x1 head convolution (``t W``, ``t b``): the
calibrated weights are an ordinary ``rtdbd`` weights file and inference costs nothing extra.
The fitted ``t`` and the val MAE before and after are written into the file's metadata.
``--undo`` recovers the uncalibrated network from a calibrated file (training runs live in ignored folders,
so the shipped file is often the only copy): further training must start from probabilities, not from
logits ``t`` times too large.
Never fit it on the real photos: those are evaluation data.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Temperatures tried: 1 (unchanged) to 48, finer where the score changes fastest.
GRID = tuple(
    float(t)
    for t in np.concatenate([np.arange(1.0, 4.0, 0.25), np.arange(4.0, 16.0, 1.0), np.arange(16.0, 48.001, 4.0)])
)
#: How far below the best val score a smaller ``t`` may be and still win (see ``fit_temperature``): about the
#: score's noise between neighbouring checkpoints, far below the gap between calibrated and uncalibrated.
TOLERANCE = 1e-3


def sharpen(prob: np.ndarray, t: float) -> np.ndarray:
    """``sigmoid(t * logit(p))``, computed from the probabilities (clipped away from 0 and 1)."""
    p = np.clip(prob.astype(np.float64), 1e-7, 1 - 1e-7)
    return 1.0 / (1.0 + np.exp(-t * np.log(p / (1 - p))))


def fit_temperature(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    probs: Sequence[np.ndarray],
    grid: Sequence[float] = GRID,
    tolerance: float = TOLERANCE,
) -> tuple[float, dict[float, dict[str, float]]]:
    """The smallest ``t`` of ``grid`` whose f_max - MAE on the val maps is within ``tolerance`` of the best.

    The same score that chooses checkpoints, scored with dbdbench's own metric code (protocol ``dbd``) on the
    sharpened maps quantised to 8 bits exactly as the map cache stores them. Why the smallest near-best
    ``t`` and not the best: MAE keeps falling as ``t`` grows towards a hard 0.5 threshold, so on a network
    whose ranking is good the score creeps up for ever by fractions of a thousandth, while every larger ``t``
    empties more of the grey levels that the F-measure and PR curves sweep (f_mean, f_adaptive, the curves'
    shape). Past the knee the extra ``t`` buys nothing measurable and costs the map its information.
    Returns ``t`` and every candidate's scores.
    """
    from dbdbench_torch.validation import score_predictions

    scores: dict[float, dict[str, float]] = {}
    for t in grid:
        sharpened = iter([sharpen(p, t) for p in probs])
        scores[t] = score_predictions(list(pairs), lambda _image, _it=sharpened: next(_it))
    best = max(s["score"] for s in scores.values())
    return min(t for t, s in scores.items() if s["score"] >= best - tolerance), scores


def fold_temperature(net, t: float) -> None:
    """Scale the head's 1x1 convolution so that the network's logits become ``t`` times larger."""
    import torch

    with torch.no_grad():
        net.head.weight.mul_(t)
        net.head.bias.mul_(t)


def calibrate(src: str | Path, out: str | Path, val_n: int = 64, val_size: int = 640) -> dict:
    from dbdbench_torch.validation import synth_validation_pairs
    from dbdbench_torch.weights import load_weights, save_weights, weights_digest

    from .method import RTDBD
    from .model import build

    meta = metadata_with_current_variant(src)
    variant = meta["variant"]
    if "calibration" in meta:
        raise ValueError(f"{src}: already calibrated ({meta['calibration']}); calibrate the uncalibrated weights")
    pairs = synth_validation_pairs("val", val_n, val_size)
    method = RTDBD(device="cpu", weights=str(src), variant=variant)
    probs = [method.predict(image) for image, _ in pairs]
    t, scores = fit_temperature(pairs, probs)

    net = build(variant)
    load_weights(net, src)
    fold_temperature(net, t)
    record = {
        "temperature": t,
        "calibrated_on": f"synth val n={val_n} size={val_size}",
        "val_before": {k: round(v, 6) for k, v in scores[1.0].items()},
        "val_after": {k: round(v, 6) for k, v in scores[t].items()},
        "from_sha256": weights_digest(src),
        "val_curve": {f"{c:g}": round(v["score"], 6) for c, v in scores.items()},
    }
    sha = save_weights(net, out, metadata={**meta, "calibration": record})
    return {**record, "sha256": sha, "out": str(out)}


def uncalibrate(src: str | Path, out: str | Path) -> dict:
    """Write ``src`` with its temperature divided back out of the head and its ``calibration`` record dropped
    (the logits equal the uncalibrated network's up to float rounding, so the file's sha256 may differ)."""
    import json

    from dbdbench_torch.weights import load_weights, save_weights

    from .model import build

    meta = metadata_with_current_variant(src)
    if "calibration" not in meta:
        raise ValueError(f"{src}: not calibrated (no 'calibration' metadata), nothing to undo")
    record = json.loads(meta.pop("calibration"))
    net = build(meta["variant"])
    load_weights(net, src)
    fold_temperature(net, 1.0 / float(record["temperature"]))
    sha = save_weights(net, out, metadata={**meta, "uncalibrated_from": file_sha(src)})
    return {
        "temperature": record["temperature"],
        "from_sha256": record.get("from_sha256"),
        "sha256": sha,
        "out": str(out),
    }


def file_sha(path: str | Path) -> str:
    from dbdbench_torch.weights import weights_digest

    return weights_digest(path)


def metadata_with_current_variant(path: str | Path) -> dict[str, str]:
    """The file's metadata with its ``variant`` under today's names (files from before the rename say "lite"),
    read in one pass over the header."""
    from safetensors import safe_open

    from .model import variant_of_weights

    with safe_open(str(path), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
        meta["variant"] = variant_of_weights(meta, fh.keys())
    return meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dbdbench_rtdbd.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("src", help="rtdbd weights (.safetensors) to calibrate")
    parser.add_argument("out", help="where to write the calibrated weights")
    parser.add_argument("--val-n", type=int, default=64)
    parser.add_argument("--val-size", type=int, default=640)
    parser.add_argument("--undo", action="store_true", help="divide a calibrated file's temperature back out")
    args = parser.parse_args(argv)
    try:
        if args.undo:
            result = uncalibrate(args.src, args.out)
        else:
            result = calibrate(args.src, args.out, args.val_n, args.val_size)
    except Exception as exc:  # one line, no traceback
        sys.exit(f"calibrate: {exc}")
    for key, value in result.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
