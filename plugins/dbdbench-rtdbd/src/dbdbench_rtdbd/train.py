"""Training of ``rtdbd`` through ``dbdbench train --method rtdbd``: the method's :class:`~dbdbench_torch.loop.Task`.

Every default below is for the ``lite`` variant on a 2-core CPU; the paper's own recipe (Adam, lr 2e-5
decaying to 2e-6, weight decay 5e-4, batch 64, 320x320, swap patch 16) is one set of ``--option``s away:
``--option lr=2e-5 --option final_lr=2e-6 --option weight_decay=5e-4 --option crop=320 --option patch=16
--batch-size 64``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from dbdbench_torch.loop import Task

from dbdbench.errors import DbdbenchError
from dbdbench.options import resolve_options

from .method import RTDBD

TRAIN_OPTIONS: dict[str, Any] = {
    "variant": "lite",
    "crop": 256,  # training crop (px); the paper resizes to 320x320
    "patch": 64,  # swap patch: 64 in Sec. 3.2, 16 in Sec. 4.1 (see the README)
    "swap": True,  # Eq. 2
    "self_sup": True,  # Eq. 4
    "lambda_s": 0.2,
    "hard_mining": True,  # Eq. 6-7
    "hard_weight": 2.0,
    "iou": 0.0,  # weight of a per-image soft IoU term (not in the paper; see losses.py); 0 = off
    "saliency": "spectral",  # spectral | none | folder:DIR
    "lr": 1e-3,
    "final_lr": 2e-5,
    "weight_decay": 0.0,
    "warmup": 100,
    "decay_steps": 3000,  # cosine from lr to final_lr over this many steps, then final_lr (independent of --steps)
    "augment": True,
    "jpeg_p": 0.5,  # share of crops re-compressed as JPEG (quality 55-95) when augment is on
    "noise_p": 0.5,  # share of crops with Gaussian sensor noise (sigma 0.5-4 on 0..255) when augment is on
    "init": "",  # start from these weights (safetensors), e.g. to fine-tune a finished run
    "val_split": "val",  # synth split for choosing the best checkpoint ("" = none)
    "val_n": 64,
    "val_size": 640,
    "val_every": 250,
    "checkpoint_every": 100,
}


def resolve(options: dict[str, str]) -> dict[str, Any]:
    from .model import VARIANTS

    cfg = resolve_options("rtdbd", options, TRAIN_OPTIONS, owner="rtdbd training")
    if cfg["variant"] not in VARIANTS:
        raise DbdbenchError(f"rtdbd: unknown variant {cfg['variant']!r} (variants: {', '.join(VARIANTS)})")
    if cfg["crop"] % 16:
        raise DbdbenchError(f"rtdbd: crop={cfg['crop']} must be a multiple of 16")
    if 2 * cfg["patch"] > cfg["crop"]:
        raise DbdbenchError(f"rtdbd: patch={cfg['patch']} must be at most half of crop={cfg['crop']}")
    return cfg


def train(request) -> dict[str, Any]:
    """The ``register_trainers`` entry point: the task in the shared trainer."""
    from dbdbench_torch.trainer import train_task

    return train_task(request, RTDBDTask, resolve(request.options))


class RTDBDTask(Task, method_class=RTDBD, options=TRAIN_OPTIONS):
    """Model, optimiser, one step of the paper's objective; validation, export and resume checks are shared."""

    default_steps = 3000

    def __init__(self, request, cfg: dict[str, Any], batch_size: int):
        from dbdbench_torch.data import Augment, load_focus_masks, load_images, require_gt

        super().__init__(request, cfg, batch_size)
        listing = request.dataset.list()
        require_gt(listing.samples)
        self.stems = [s.stem for s in listing.samples]
        self.images = load_images([s.image for s in listing.samples])
        self.masks = load_focus_masks([s.gt for s in listing.samples], request.dataset.gt_polarity)
        self.augment = Augment(jpeg_p=cfg["jpeg_p"], noise_p=cfg["noise_p"]) if cfg["augment"] else Augment.none()
        self.salient_maps = self._folder_saliency(cfg["saliency"])
        self.val_pairs = self.validation_pairs()

    # ------------------------------------------------------------ data

    def _folder_saliency(self, spec: str):
        if not spec.startswith("folder:"):
            if spec not in ("spectral", "none"):
                raise DbdbenchError(f"rtdbd: saliency={spec!r}: expected spectral, none or folder:DIR")
            return None
        from dbdbench.datasets.base import files_by_stem
        from dbdbench.io import read_gray

        folder = Path(spec.split(":", 1)[1])
        maps = files_by_stem(folder)
        missing = [s for s in self.stems if s not in maps]
        if missing:
            raise DbdbenchError(
                f"{folder}: no saliency map for {len(missing)} training images (first: {missing[0]}.png)"
            )
        return [(read_gray(maps[s]) > 127).astype(np.uint8) for s in self.stems]

    def dataset_size(self) -> int:
        return len(self.images)

    def load_batch(self, indices: list[int], epoch: int):

        from dbdbench_torch.data import geometric, photometric, random_crop, sample_rng, to_mask_batch, to_tensor_batch

        from .losses import swap_boxes
        from .saliency import binary_salient

        crop, patch = self.cfg["crop"], self.cfg["patch"]
        images, focus, salient, boxes = [], [], [], []
        for index in indices:
            rng = sample_rng(self.seed, epoch, index)
            arrays = [self.images[index], self.masks[index]]
            if self.salient_maps is not None:
                arrays.append(self.salient_maps[index])
            arrays = geometric(rng, random_crop(rng, arrays, crop), self.augment)
            image = photometric(rng, arrays[0], self.augment)
            images.append(image)
            focus.append(arrays[1])
            if self.salient_maps is not None:
                salient.append(arrays[2])
            elif self.cfg["saliency"] == "spectral" and self.cfg["hard_mining"]:
                salient.append(binary_salient(image))
            else:
                salient.append(np.zeros_like(arrays[1]))
            boxes.append(swap_boxes(rng, crop, crop, patch))
        dev = self.ctx.device
        return (to_tensor_batch(images).to(dev), to_mask_batch(focus).to(dev), to_mask_batch(salient).to(dev), boxes)

    # ------------------------------------------------------------ model

    def setup(self, ctx) -> None:
        import torch
        from dbdbench_torch.distributed import wrap

        from .losses import Objective
        from .model import build

        self.ctx = ctx
        self.net = build(self.cfg["variant"])
        if self.cfg["init"]:
            from dbdbench_torch.weights import load_weights

            load_weights(self.net, self.cfg["init"])
        self.model = wrap(self.net, ctx)
        self.objective = Objective(
            swap=self.cfg["swap"],
            self_sup=self.cfg["self_sup"],
            lambda_s=self.cfg["lambda_s"],
            hard_mining=self.cfg["hard_mining"],
            hard_weight=self.cfg["hard_weight"],
            iou=self.cfg["iou"],
        )
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.cfg["lr"], weight_decay=self.cfg["weight_decay"])

    def state_modules(self):
        return {"net": self.net}

    def state_optimizers(self):
        return {"adam": self.opt}

    def train_step(self, batch, step: int) -> dict[str, float]:
        from .losses import total_loss

        image, focus, salient, boxes = batch
        self.net.train()
        for group in self.opt.param_groups:  # the schedule is a pure function of the step: exact on resume
            group["lr"] = self._lr(step)
        terms = total_loss(_Logits(self.model), image, focus, salient, boxes, self.cfg["patch"], self.objective)
        self.opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        self.opt.step()
        return {k: float(v.detach()) for k, v in terms.items()} | {"lr": self._lr(step)}

    def _lr(self, step: int) -> float:
        from dbdbench_torch.schedule import warmup_cosine

        cfg = self.cfg
        return warmup_cosine(step, cfg["lr"], cfg["final_lr"], cfg["warmup"], cfg["decay_steps"])

    # ------------------------------------------------------------ validation and export

    def inference_network(self):
        return self.net

    def record(self) -> dict[str, Any]:
        return dict(super().record(), dataset=self.request.dataset.describe())


class _Logits:
    """Gives the loss ``.logits`` through ``forward``, so DistributedDataParallel sees (and syncs) the pass."""

    def __init__(self, model):
        self.model = model

    def logits(self, x):
        return self.model(x, logits=True)
