"""Weights as safetensors (no pickles: loading a shipped file never runs code), identified by their sha256."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from dbdbench.errors import DbdbenchError
from dbdbench.hashing import file_digest


def save_weights(module: torch.nn.Module, path: str | Path, metadata: dict[str, Any] | None = None) -> str:
    """Write the module's state dict (float32, contiguous) atomically; return the file's sha256."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(state, tmp, metadata=meta)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return file_digest(path)


def load_weights(module: torch.nn.Module, path: str | Path) -> dict[str, str]:
    """Load safetensors weights into ``module`` (strict); return the file's metadata. One-line errors."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise DbdbenchError(f"{path}: weights file not found")
    try:
        state = load_file(str(path))
        with safe_open(str(path), framework="pt") as fh:
            meta = dict(fh.metadata() or {})
    except Exception as exc:
        raise DbdbenchError(f"{path}: not a readable safetensors file ({exc})") from None
    missing, unexpected = _diff(module.state_dict(), state)
    if missing or unexpected:
        raise DbdbenchError(
            f"{path}: weights do not fit this network (missing {missing[:3]}, unexpected {unexpected[:3]}); "
            "is it another variant?"
        )
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise DbdbenchError(f"{path}: weights do not fit this network ({str(exc).splitlines()[0]})") from None
    return meta


def _diff(expected: dict, given: dict) -> tuple[list[str], list[str]]:
    return sorted(set(expected) - set(given)), sorted(set(given) - set(expected))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
