"""Devices: ``--device auto|cpu|cuda[:N]`` checked without torch, resolved with torch only when needed.

The core never imports torch at import time (handcrafted methods must not pay for it); only resolving ``auto`` or
``cuda`` does, and only learned methods ask for that.
"""

from __future__ import annotations

from .errors import DbdbenchError


def check_device(device: str) -> str:
    """Refuse anything but ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, without importing torch."""
    if device not in {"auto", "cpu", "cuda"} and not device.startswith("cuda:"):
        raise DbdbenchError(f"--device {device!r}: expected auto, cpu or cuda")
    return device


def resolve_device(device: str) -> str:
    """Turn ``auto`` into ``cuda`` when torch sees a GPU, else ``cpu``. Imports torch lazily."""
    if check_device(device) == "cpu":
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise DbdbenchError(f"--device {device}: torch sees no CUDA device on this machine")
    return device
