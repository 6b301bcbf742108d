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
        raise DbdbenchError(no_cuda_message(device, torch.__version__, torch.version.cuda))
    count = torch.cuda.device_count()
    if device.startswith("cuda:") and not (device[5:].isdigit() and int(device[5:]) < count):
        raise DbdbenchError(f"--device {device}: torch sees {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    return device


#: How to replace a CPU build of torch in the project's venv (the README's "GPU" section says the same).
CUDA_INSTALL = (
    ".venv/bin/python -m pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu128 "
    "(pick the cuXXX of your driver at https://pytorch.org/get-started/locally/; see the README, 'On a GPU')"
)


def no_cuda_message(device: str, torch_version: str, torch_cuda: str | None) -> str:
    """Why ``--device cuda`` cannot work, and the fix: a CPU-only build of torch is not the same problem as a CUDA
    build that finds no GPU (driver, CUDA_VISIBLE_DEVICES)."""
    if torch_cuda is None:
        return (
            f"--device {device}: the installed torch {torch_version} is a CPU-only build; install a CUDA build: "
            f"{CUDA_INSTALL}; or use --device cpu"
        )
    return (
        f"--device {device}: torch {torch_version} (built for CUDA {torch_cuda}) sees no CUDA device; check that "
        "nvidia-smi lists a GPU, that the driver supports CUDA "
        f"{torch_cuda}, and that CUDA_VISIBLE_DEVICES does not hide it; or use --device cpu"
    )
