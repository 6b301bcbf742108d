"""Weights as safetensors (no pickles: loading a shipped file never runs code), identified by a content hash.

The identity of a weights file (``weights_sha256`` in results, the map cache's key, model cards) is
:func:`weights_digest`: a sha256 over the tensors alone, canonically (sorted names, dtype, shape, bytes).
Not the file's sha256, because the safetensors writer serialises the header's metadata in an arbitrary order:
two bit-identical trainings wrote files with different hashes (issue 27). Metadata (training options, step)
is provenance, not identity; everything that changes what the network computes lives in its tensors (rtdbd's
calibration folds the temperature into the head's weights).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from dbdbench.errors import DbdbenchError


def save_weights(module: torch.nn.Module, path: str | Path, metadata: dict[str, Any] | None = None) -> str:
    """Write the module's state dict (float32, contiguous) atomically; return its :func:`weights_digest`."""
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
    return weights_digest(path)


def weights_digest(path: str | Path) -> str:
    """sha256 (hex) of a safetensors file's tensors: for each name in sorted order, the name, dtype, shape and
    raw bytes. Equal tensors give one hash whatever the header's order or metadata. Memoised per
    (path, size, mtime), like :func:`dbdbench.hashing.file_digest`."""
    st = os.stat(path)
    return _weights_digest(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _weights_digest(path: str, size: int, mtime_ns: int) -> str:
    from safetensors import safe_open

    h = hashlib.sha256()
    try:
        with safe_open(path, framework="pt") as fh:
            for name in sorted(fh.keys()):
                t = fh.get_tensor(name).contiguous()
                h.update(f"{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
                h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    except Exception as exc:
        raise DbdbenchError(f"{path}: not a readable safetensors file ({exc})") from None
    return h.hexdigest()


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
