"""Device choice and DistributedDataParallel set-up, so one training script runs alone or under torchrun."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from dbdbench.devices import resolve_device
from dbdbench.errors import DbdbenchError


@dataclass(frozen=True)
class Context:
    """Where this process trains: its device and its place among the torchrun processes."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device: str = "auto") -> Context:
    """Resolve ``--device`` and, when launched by torchrun (``WORLD_SIZE`` > 1), join the process group.

    CPU processes use gloo; CUDA processes use NCCL, one GPU per local rank.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    name = resolve_device(device)
    if name.startswith("cuda"):
        index = local_rank if world_size > 1 else (torch.device(name).index or 0)
        torch.cuda.set_device(index)
        dev = torch.device("cuda", index)
    else:
        dev = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        try:
            dist.init_process_group(backend=backend)
        except Exception as exc:
            raise DbdbenchError(f"torchrun: could not join the process group ({backend}): {exc}") from None
    return Context(device=dev, rank=rank, world_size=world_size, local_rank=local_rank)


def wrap(module: torch.nn.Module, ctx: Context) -> torch.nn.Module:
    """The module itself when alone; a DistributedDataParallel wrapper under torchrun."""
    module.to(ctx.device)
    if not ctx.distributed:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        dist.barrier()


def all_mean(value: float, ctx: Context) -> float:
    """The mean of a scalar over all processes (for logging the global loss)."""
    if not ctx.distributed:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=ctx.device)  # NCCL reduces only CUDA tensors
    dist.all_reduce(t)
    return float(t.item()) / ctx.world_size


def any_true(flag: bool, ctx: Context) -> bool:
    """True on every process when ``flag`` is true on any (so all torchrun processes stop at the same step)."""
    if not ctx.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def teardown(ctx: Context) -> None:
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()
