"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds model and optimiser/scheduler states, the step counter, the torch RNG states
(dropout) and the training options; the data order and augmentation are functions of (seed, epoch,
index), so the step counter alone restores them. Files are written to a temporary name and renamed,
so a run killed mid-write leaves the previous checkpoint intact. They are torch pickles for the
optimiser state, but loaded with ``weights_only=True``: only tensors and plain containers are accepted.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from dbdbench.errors import DbdbenchError

LAST = "last.pt"


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(folder: Path, state: dict[str, Any], keep_as: str | None = None) -> Path:
    """Write ``folder/last.pt`` atomically (and a copy named ``keep_as``, e.g. ``step_000400.pt``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LAST
    fd, tmp = tempfile.mkstemp(prefix=".last.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if keep_as:
        kept = folder / keep_as
        try:
            os.link(path, kept)
        except FileExistsError:
            pass
        except OSError:
            import shutil

            shutil.copyfile(path, kept)
    return path


def load_checkpoint(folder: Path) -> dict[str, Any]:
    path = folder / LAST
    if not path.is_file():
        raise DbdbenchError(f"--resume: no checkpoint at {path}; start without --resume")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DbdbenchError(f"{path}: unreadable checkpoint ({str(exc).splitlines()[0]})") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
