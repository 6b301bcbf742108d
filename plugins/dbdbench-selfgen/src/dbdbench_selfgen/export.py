"""Write the generator of a stage-2 training checkpoint as inference weights.

``python -m dbdbench_selfgen.export runs/train/selfgen-lite/checkpoints/step_0000150.pt OUT.safetensors``

Used for kept checkpoints (``--option keep_every=N``), e.g. to score a run at an earlier step.
"""

from __future__ import annotations

import sys
from pathlib import Path


def export_generator(checkpoint: str | Path, out: str | Path) -> str:
    import torch
    from dbdbench_torch.weights import save_weights

    from .model import build_generator

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    record = state.get("record") or {}
    if "generator" not in state.get("modules", {}):
        raise SystemExit(f"{checkpoint}: not a selfgen stage-2 checkpoint (no generator)")
    gen = build_generator(record.get("variant", "lite"))
    # the generator training exports: the moving average when the run kept one (option ema), else the last G
    gen.load_state_dict(state["modules"].get("generator_ema", state["modules"]["generator"]))
    meta = {
        "method": "selfgen",
        "network": "generator",
        "variant": record.get("variant", "lite"),
        "options": record,
        "step": state["step"],
        "from_checkpoint": str(checkpoint),
    }
    return save_weights(gen, out, metadata=meta)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m dbdbench_selfgen.export CHECKPOINT.pt OUT.safetensors")
    print(export_generator(args[0], args[1]))


if __name__ == "__main__":
    main()
