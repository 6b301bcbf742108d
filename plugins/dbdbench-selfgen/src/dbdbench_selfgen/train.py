"""Training of ``selfgen`` through ``dbdbench train --method selfgen``, in two stages, with no mask anywhere.

Stage 1, ``--option stage=classifier``: V learns full clear / full blurred / mixed from the three image pools
(the class of an image is which pool it came from; no pixel label). Its weights are the stage's
``best.safetensors`` (held-out accuracy) or ``weights.safetensors``.

Stage 2, ``--option stage=adversarial`` (the default) with ``--option classifier=PATH`` (a stage-1 folder or a
weights file; default: the classifier shipped with the plugin for the variant): G against D_c and D_b with the
frozen V, Eq. 1-6. Its weights (G only, all inference needs) are what ``dbdbench run --method selfgen`` loads.

Both stages run in the shared loop of ``dbdbench_torch`` (step budget, loss.csv, checkpoints, exact resume,
torchrun DDP). Ground truth is read only from the ``synth`` ``val`` split, to pick the best checkpoint
(``--option val_split=`` turns that off); never from the training pools.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from dbdbench_torch.loop import Task
from dbdbench_torch.plots import Panel

from dbdbench.errors import DbdbenchError
from dbdbench.options import resolve_options

from .method import SelfGen

TRAIN_OPTIONS: dict[str, Any] = {
    "stage": "adversarial",  # classifier | adversarial
    "variant": "lite",
    "crop": 128,  # training crop (px), taken at native scale, or from the resized image when resize > 0
    "resize": 0,  # >0: every pool image is first resized whole to resize x resize (the paper: 256); 0: native scale
    "classifier": "",  # stage 2: V's weights (stage-1 folder or file); "": the packaged <variant>-classifier
    "init": "",  # stage 2: start G from these generator weights (a stage-2 folder or .safetensors), e.g. after V changed
    "sources": "",  # folder of unlabelled photos for T ("": the --dataset split's images, masks unread)
    "clear": "",  # folder of full-clear photos ("": synth fc)
    "blurred": "",  # folder of full-blurred photos ("": synth fb)
    "pool_n": 500,  # size of the synth fc / fb splits used by default
    "pool_size": 384,  # the fc / fb pools at T's scale (synth train renders at 384 px)
    "max_sources": 0,  # use at most this many T images (0: all)
    "discriminators": "both",  # both | clear (single D_c) | blurred (single D_b) | none
    "lb": True,  # the bilateral triplet-excavating term (Eq. 5)
    "eta": 0.01,  # weight of G's adversarial term (Eq. 6)
    "ema": 0.995,  # exported/validated G = exponential moving average of G's weights (0: the last G)
    "min_coverage": 0.1,  # ReLU(min_coverage - mean M)
    "coverage_weight": 1.0,
    "binarize_weight": 1.0,  # mean(min(M, 1 - M))
    "feather": 0.0,  # >0: C_b pastes through M smoothed by a Gaussian of this sigma (px); not in the paper
    "matched_reals": False,  # D's real = two pool images pasted through the fake's own mask (same seam); not in the paper
    "d_warmup": 0,  # first this many steps train D_c, D_b alone on pool images pasted through random masks; not in the paper
    "optimizer": "adam",  # adam | sgd (the authors' code: sgd, lr 2e-4, momentum 0.5)
    "lr": 5e-4,  # G (lite default for the CPU budget; the paper: 2e-4)
    "d_lr": 2e-4,  # D_c, D_b
    "decay_steps": 0,  # >0: G's and D's rates fall on a cosine to final_scale x their value at this step (0: constant)
    "final_scale": 0.05,
    "momentum": 0.5,  # SGD momentum, or Adam's beta1
    "cls_lr": 1e-3,  # stage 1 (Adam)
    "holdout": 32,  # stage 1: images of each pool kept out of training for its accuracy
    "augment": True,
    "val_split": "val",  # stage 2: synth split for choosing the best checkpoint ("" = none)
    "val_n": 64,
    "val_size": 640,
    "val_every": 250,
    "checkpoint_every": 100,
    "keep_every": 1000,  # keep a copy of the checkpoint every this many steps
    "collapse_eps": 0.02,  # a batch mask with mean < eps or > 1 - eps counts as collapsed
    "collapse_patience": 100,  # this many consecutive collapsed steps are reported
}
STAGES = ("classifier", "adversarial")
DISCRIMINATORS = ("both", "clear", "blurred", "none")


def resolve(options: dict[str, str]) -> dict[str, Any]:
    from .model import VARIANTS

    cfg = resolve_options("selfgen", options, TRAIN_OPTIONS, owner="selfgen training")

    if cfg["stage"] not in STAGES:
        raise DbdbenchError(f"selfgen: stage={cfg['stage']!r}: expected classifier or adversarial")
    if cfg["variant"] not in VARIANTS:
        raise DbdbenchError(f"selfgen: unknown variant {cfg['variant']!r} (variants: {', '.join(VARIANTS)})")
    if cfg["discriminators"] not in DISCRIMINATORS:
        raise DbdbenchError(f"selfgen: discriminators={cfg['discriminators']!r}: expected {', '.join(DISCRIMINATORS)}")
    if cfg["optimizer"] not in ("adam", "sgd"):
        raise DbdbenchError(f"selfgen: optimizer={cfg['optimizer']!r}: expected adam or sgd")
    if cfg["feather"] < 0:
        raise DbdbenchError(f"selfgen: feather={cfg['feather']} must be >= 0 (pixels)")
    if cfg["d_warmup"] < 0:
        raise DbdbenchError(f"selfgen: d_warmup={cfg['d_warmup']} must be >= 0 (steps)")
    if cfg["crop"] % 16 or cfg["crop"] < 32:
        raise DbdbenchError(f"selfgen: crop={cfg['crop']} must be a multiple of 16, at least 32")
    if cfg["resize"] and not cfg["crop"] <= cfg["resize"]:
        raise DbdbenchError(f"selfgen: crop={cfg['crop']} must be at most resize={cfg['resize']}")
    return cfg


def generator_file(spec: str) -> Path:
    """G's weights for ``init``: a .safetensors file, or a stage-2 folder (its best, else final weights)."""
    return _weights_file(spec, "init")


def classifier_file(spec: str, variant: str) -> Path:
    """V's weights: a file, a stage-1 training folder (best, else final weights), or the packaged ones."""
    if not spec:
        path = SelfGen.packaged.path(f"{variant}-classifier") if SelfGen.packaged else None
        if path is not None:
            return path
        raise DbdbenchError(
            f"selfgen: no classifier for variant {variant!r}: train stage 1 first "
            f"(dbdbench train --method selfgen --option stage=classifier --option variant={variant} --out DIR), "
            "then pass --option classifier=DIR"
        )
    return _weights_file(spec, "classifier")


def _weights_file(spec: str, option: str) -> Path:
    """A .safetensors file, or a training folder's best.safetensors (else its final weights.safetensors)."""
    path = Path(spec).expanduser()
    if path.is_dir():
        for name in ("best.safetensors", "weights.safetensors"):
            if (path / name).is_file():
                return path / name
        raise DbdbenchError(f"selfgen: {option}={spec}: no best.safetensors or weights.safetensors in that folder")
    if not path.is_file():
        raise DbdbenchError(f"selfgen: {option}={spec}: file not found")
    return path


def train(request) -> dict[str, Any]:
    """The ``register_trainers`` entry point: the stage's task in the shared trainer."""
    from dbdbench_torch.trainer import train_task

    cfg = resolve(request.options)
    return train_task(request, ClassifierTask if cfg["stage"] == "classifier" else AdversarialTask, cfg)


class _Task(Task, method_class=SelfGen, options=TRAIN_OPTIONS):
    """What both stages share: the image pools, augmentation, options record."""

    def __init__(self, request, cfg: dict[str, Any], batch_size: int):
        from dbdbench_torch.data import Augment

        from . import data

        super().__init__(request, cfg, batch_size)
        src = data.folder_images(cfg["sources"], "sources") if cfg["sources"] else data.dataset_images(request.dataset)
        size = cfg["resize"]
        self.sources = data.load(src, cfg["max_sources"], resize=size)
        self.clear = data.load(data.pool(cfg["clear"], "fc", cfg["pool_n"], cfg["pool_size"], "clear"), resize=size)
        self.blurred = data.load(
            data.pool(cfg["blurred"], "fb", cfg["pool_n"], cfg["pool_size"], "blurred"), resize=size
        )
        self.augment = Augment() if cfg["augment"] else Augment.none()
        self.describe_pools = {
            "sources": cfg["sources"] or request.dataset.describe(),
            "n_sources": len(self.sources),
            "clear": cfg["clear"] or f"synth fc n={cfg['pool_n']} size={cfg['pool_size']}",
            "n_clear": len(self.clear),
            "blurred": cfg["blurred"] or f"synth fb n={cfg['pool_n']} size={cfg['pool_size']}",
            "n_blurred": len(self.blurred),
        }

    def crop(self, rng, image: np.ndarray) -> np.ndarray:
        from dbdbench_torch.data import geometric, photometric, random_crop

        (patch,) = geometric(rng, random_crop(rng, [image], self.cfg["crop"]), self.augment)
        return photometric(rng, patch, self.augment)

    def record(self) -> dict[str, Any]:
        return dict(super().record(), pools=self.describe_pools)


class ClassifierTask(_Task):
    """Stage 1: V classifies crops as full clear (0), full blurred (1) or mixed (2); cross-entropy, Adam."""

    default_steps = 600
    batch_size = 8
    plot_panels = (Panel("losses", ("loss", "accuracy"), says_window=True),)

    def __init__(self, request, cfg, batch_size):
        super().__init__(request, cfg, batch_size)
        h = cfg["holdout"]
        if min(len(self.sources), len(self.clear), len(self.blurred)) <= h + batch_size:
            raise DbdbenchError(f"selfgen: each pool needs more than holdout={h} + batch images")
        self.val = self._held_out()

    def _held_out(self):
        from dbdbench_torch.data import sample_rng

        h, items = self.cfg["holdout"], []
        if not h:
            return []
        for label, pool_ in enumerate((self.clear, self.blurred, self.sources)):
            for k, image in enumerate(pool_[-h:]):
                rng = sample_rng(self.seed + 7919, 0, k, salt=label)
                items.append((self.crop(rng, image), label))
        return items

    def dataset_size(self) -> int:
        return len(self.sources) - self.cfg["holdout"]

    def load_batch(self, indices, epoch):
        import torch
        from dbdbench_torch.data import sample_rng, to_tensor_batch

        h = self.cfg["holdout"]
        images, labels = [], []
        for index in indices:
            rng = sample_rng(self.seed, epoch, index)
            images.append(self.crop(rng, self.clear[int(rng.integers(0, len(self.clear) - h))]))
            images.append(self.crop(rng, self.blurred[int(rng.integers(0, len(self.blurred) - h))]))
            images.append(self.crop(rng, self.sources[index]))
            labels += [0, 1, 2]
        dev = self.ctx.device
        return to_tensor_batch(images).to(dev), torch.tensor(labels, device=dev)

    def setup(self, ctx) -> None:
        import torch
        from dbdbench_torch.distributed import wrap

        from .model import build_classifier

        self.ctx = ctx
        self.net = build_classifier(self.cfg["variant"])
        self.model = wrap(self.net, ctx)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.cfg["cls_lr"])

    def state_modules(self):
        return {"classifier": self.net}

    def state_optimizers(self):
        return {"adam": self.opt}

    def train_step(self, batch, step):
        from torch.nn import functional as F

        images, labels = batch
        self.net.train()
        _, logits = self.model(images)
        loss = F.cross_entropy(logits, labels)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        acc = (logits.argmax(1) == labels).float().mean()
        return {"loss": float(loss.detach()), "accuracy": float(acc)}

    def validate(self):
        if not self.val:
            return None
        import torch
        from dbdbench_torch.data import to_tensor_batch

        self.net.eval()
        correct = np.zeros(3)
        counts = np.zeros(3)
        with torch.inference_mode():
            for start in range(0, len(self.val), 32):
                chunk = self.val[start : start + 32]
                _, logits = self.net(to_tensor_batch([im for im, _ in chunk]).to(self.ctx.device))
                pred = logits.argmax(1).cpu().numpy()
                for p, (_, label) in zip(pred, chunk):
                    counts[label] += 1
                    correct[label] += p == label
        per = correct / np.maximum(counts, 1)
        return {
            "accuracy": float(correct.sum() / counts.sum()),
            "acc_clear": float(per[0]),
            "acc_blurred": float(per[1]),
            "acc_mixed": float(per[2]),
            "score": float(correct.sum() / counts.sum()),
        }

    def inference_network(self):
        return self.net

    def export_metadata(self, info: dict[str, Any]) -> dict[str, Any]:
        return dict(super().export_metadata(info), network="classifier")


class AdversarialTask(_Task):
    """Stage 2: G against D_c and D_b with the frozen classifier V (Eq. 1-6); logs mask statistics, flags collapse."""

    default_steps = 2000
    batch_size = 4
    plot_panels = (
        Panel("losses", ("g_adv_c", "g_adv_b", "d_c", "d_b", "lb", "mask_bin_loss", "mask_cov_loss"), says_window=True),
        Panel(
            "masks: coverage, binariness; D(fake)",
            ("coverage", "binariness", "d_c_fake", "d_b_fake"),
            ylim=(-0.05, 1.05),
            flag="collapse",
            flag_label="collapsed step",
        ),
    )

    def __init__(self, request, cfg, batch_size):
        super().__init__(request, cfg, batch_size)
        self.classifier_path = classifier_file(cfg["classifier"], cfg["variant"]) if cfg["lb"] else None
        if self.classifier_path is not None:
            from dbdbench_torch.weights import weights_digest

            self.classifier_sha = weights_digest(self.classifier_path)
        else:
            self.classifier_sha = None
        self.val_pairs = self.validation_pairs()
        self.critic_crops = self._critic_crops()
        self.collapsed_run = 0
        self.collapse_events: list[dict[str, Any]] = []

    def _critic_crops(self, k: int = 32):
        """Fixed crops for measuring the critics at each validation: synth val photos (never trained on) with
        their true masks, and pool images as the pasted backgrounds and the real references."""
        if not self.val_pairs:
            return None
        from dbdbench_torch.data import random_crop, sample_rng, to_mask_batch, to_tensor_batch

        size = self.cfg["crop"]
        photos, masks, pools = [], [], [[], [], [], []]
        for i in range(k):
            rng = sample_rng(self.seed + 104729, 0, i)
            image, gt = self.val_pairs[i % len(self.val_pairs)]
            photo, mask = random_crop(rng, [image, gt], size)
            photos.append(photo)
            masks.append(mask)
            for group, images in zip(pools, (self.clear, self.clear, self.blurred, self.blurred)):
                group.append(random_crop(rng, [images[int(rng.integers(0, len(images)))]], size)[0])
        return (to_tensor_batch(photos), to_mask_batch(masks), *(to_tensor_batch(g) for g in pools))

    def critic_accuracy(self) -> dict[str, float]:
        """Balanced accuracy of D_c and D_b (real pool crops vs composites) with G's masks and with the true masks.

        Why: a discriminator at chance carries no signal for G (issue 24: the 0.10M D sat at 0.5 / 0.5), and a D
        that rejects the *true* composites as readily as G's is detecting something other than blur (e.g. seams).
        """
        import torch

        from . import losses

        if self.critic_crops is None:
            return {}
        dev = self.ctx.device
        photo, true_mask, clear, clear2, blurred, blurred2 = (t.to(dev) for t in self.critic_crops)
        out: dict[str, float] = {}
        with torch.no_grad():
            self.exported.eval()
            for label, mask in (("g", self.exported(photo)), ("gt", true_mask.float())):
                c_c, c_b = losses.composites(mask, photo, clear, blurred, feather=self.cfg["feather"])
                for key, d, used, real, fake in (
                    ("d_c", self.d_c, self.use_c, clear2, c_c),
                    ("d_b", self.d_b, self.use_b, blurred2, c_b),
                ):
                    if used:
                        d.eval()
                        right_real = (d(real, logits=True) > 0).float().mean()
                        right_fake = (d(fake, logits=True) < 0).float().mean()
                        d.train()
                        out[f"{key}_acc_{label}"] = round(float(0.5 * (right_real + right_fake)), 4)
        return out

    def dataset_size(self) -> int:
        return len(self.sources)

    def load_batch(self, indices, epoch):
        from dbdbench_torch.data import sample_rng, to_tensor_batch

        groups: list[list[np.ndarray]] = [[], [], [], [], []]  # T, I_c, I_c', I_b, I_b'
        for index in indices:
            rng = sample_rng(self.seed, epoch, index)
            c1, c2 = _two(rng, len(self.clear))
            b1, b2 = _two(rng, len(self.blurred))
            for group, image in zip(
                groups, (self.sources[index], self.clear[c1], self.clear[c2], self.blurred[b1], self.blurred[b2])
            ):
                group.append(self.crop(rng, image))
        dev = self.ctx.device
        return tuple(to_tensor_batch(g).to(dev) for g in groups)

    def setup(self, ctx) -> None:
        import torch
        from dbdbench_torch.distributed import wrap
        from dbdbench_torch.weights import load_weights

        from .model import build_classifier, build_discriminator, build_generator, freeze

        self.ctx = ctx
        v = self.cfg["variant"]
        self.gen = build_generator(v)
        self.d_c = build_discriminator(v)
        self.d_b = build_discriminator(v)
        self.g_model, self.dc_model, self.db_model = wrap(self.gen, ctx), wrap(self.d_c, ctx), wrap(self.d_b, ctx)
        self.v = None
        if self.classifier_path is not None:
            self.v = build_classifier(v)
            load_weights(self.v, self.classifier_path)
            self.v = freeze(self.v.to(ctx.device))

        def opt(params, lr):
            if self.cfg["optimizer"] == "sgd":
                return torch.optim.SGD(params, lr=lr, momentum=self.cfg["momentum"])
            return torch.optim.Adam(params, lr=lr, betas=(self.cfg["momentum"], 0.999))

        if self.cfg["init"]:
            load_weights(self.gen, generator_file(self.cfg["init"]))
        self.gen_ema = _frozen_copy(self.gen) if self.cfg["ema"] > 0 else None
        self.opt_g = opt(self.gen.parameters(), self.cfg["lr"])
        self.opt_dc = opt(self.d_c.parameters(), self.cfg["d_lr"])
        self.opt_db = opt(self.d_b.parameters(), self.cfg["d_lr"])

    def state_modules(self):
        modules = {"generator": self.gen, "d_clear": self.d_c, "d_blurred": self.d_b}
        if self.gen_ema is not None:
            modules["generator_ema"] = self.gen_ema
        return modules

    def restore_missing(self, name: str) -> None:
        """A checkpoint written before ``ema`` existed: the average starts from the restored G."""
        if name != "generator_ema":
            raise DbdbenchError(f"--resume: the checkpoint has no state for {name!r}; use another --out")
        self.gen_ema.load_state_dict(self.gen.state_dict())

    @property
    def exported(self):
        """The generator that is validated and exported: the moving average when ``ema`` is on."""
        return self.gen_ema if self.gen_ema is not None else self.gen

    def state_optimizers(self):
        return {"generator": self.opt_g, "d_clear": self.opt_dc, "d_blurred": self.opt_db}

    def _rates(self, step: int) -> dict[str, float]:
        """Each optimiser's rate at ``step``: constant, or a cosine decay (a pure function of the step, so a
        resumed run matches an uninterrupted one). Why: with constant rates the masks keep swinging between
        checkpoints a few hundred steps apart (model card); a decay lets G settle."""
        from dbdbench_torch.schedule import warmup_cosine

        cfg = self.cfg
        scale = 1.0
        if cfg["decay_steps"] > 0:
            scale = warmup_cosine(step, 1.0, cfg["final_scale"], 0, cfg["decay_steps"])
        return {"generator": cfg["lr"] * scale, "d_clear": cfg["d_lr"] * scale, "d_blurred": cfg["d_lr"] * scale}

    @property
    def use_c(self) -> bool:
        return self.cfg["discriminators"] in ("both", "clear")

    @property
    def use_b(self) -> bool:
        return self.cfg["discriminators"] in ("both", "blurred")

    def _log_keys(self) -> list[str]:
        """Every column of a stage-2 ``loss.csv`` row, in order (warm-up rows carry the same columns)."""
        keys = [k for k, used in (("g_adv_c", self.use_c), ("g_adv_b", self.use_b)) if used]
        if self.v is not None:
            keys += ["lb", "lb_c", "lb_b"]
        keys += ["g_total", "mask_cov_loss", "mask_bin_loss"]
        for key, used in (("d_c", self.use_c), ("d_b", self.use_b)):
            if used:
                keys += [key, f"{key}_real", f"{key}_fake"]
        keys += ["coverage", "binariness", "collapse", "loss"]
        if self.cfg["decay_steps"] > 0:
            keys.append("lr")
        return keys

    def warmup_step(self, batch, step) -> dict[str, float]:
        """A warm-up step: D_c and D_b alone, on pool images pasted through random blob masks (G does not move).

        D_c's fake is blur pasted into a clear image, D_b's is sharpness pasted into a blurred one; the reals
        are two pool images of one kind pasted through the same mask (``losses.warmup_pairs``), so D learns
        blur, not seams. G's columns are NaN in these rows.
        """
        import torch

        from . import losses

        _, clear, clear2, blurred, blurred2 = batch
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        mask = losses.random_masks(clear.shape[0], clear.shape[-1], gen, device=clear.device)
        pair_c, pair_b = losses.warmup_pairs(mask, clear, clear2, blurred, blurred2, self.cfg["feather"])
        stats = dict.fromkeys(self._log_keys(), float("nan"))
        total = 0.0
        for model, opt, used, pair, key in (
            (self.dc_model, self.opt_dc, self.use_c, pair_c, "d_c"),
            (self.db_model, self.opt_db, self.use_b, pair_b, "d_b"),
        ):
            if used:
                d_stats = discriminator_step(model, opt, *pair)
                stats.update({key if k == "loss" else f"{key}_{k}": v for k, v in d_stats.items()})
                total += d_stats["loss"]
        stats.update(collapse=0.0, loss=total)
        if self.cfg["decay_steps"] > 0:
            stats["lr"] = self._rates(step)["generator"]
        return stats

    def train_step(self, batch, step):
        import torch

        from . import losses

        source, clear, clear2, blurred, blurred2 = batch
        cfg = self.cfg
        rates = self._rates(step)
        for name, optimizer in self.state_optimizers().items():
            for group in optimizer.param_groups:
                group["lr"] = rates[name]
        if step < cfg["d_warmup"]:
            return self.warmup_step(batch, step)
        self.gen.train()

        # ---- G: eta * L_G + L_B + mask regularisers (D's parameters get no gradient in this pass)
        mask = self.g_model(source)
        c_c, c_b = losses.composites(mask, source, clear, blurred, feather=cfg["feather"])
        stats: dict[str, float] = {}
        g_total = torch.zeros((), device=mask.device)
        for d, used, comp, key in ((self.d_c, self.use_c, c_c, "g_adv_c"), (self.d_b, self.use_b, c_b, "g_adv_b")):
            if used:
                term = adversarial_term(d, comp)
                g_total = g_total + cfg["eta"] * term
                stats[key] = float(term.detach())
        if self.v is not None:
            lb, lb_c, lb_b = losses.triplet_loss(self.v, c_c, clear2, c_b, blurred2)
            g_total = g_total + lb
            stats.update(lb=float(lb.detach()), lb_c=float(lb_c.detach()), lb_b=float(lb_b.detach()))
        cov = losses.coverage_loss(mask, cfg["min_coverage"])
        binar = losses.binarization_loss(mask)
        g_total = g_total + cfg["coverage_weight"] * cov + cfg["binarize_weight"] * binar
        self.opt_g.zero_grad(set_to_none=True)
        g_total.backward()
        self.opt_g.step()
        if self.gen_ema is not None:
            _update_ema(self.gen_ema, self.gen, self.cfg["ema"], step - cfg["d_warmup"])
        stats.update(
            g_total=float(g_total.detach()), mask_cov_loss=float(cov.detach()), mask_bin_loss=float(binar.detach())
        )

        # ---- D_c, D_b: Eq. 4, real vs the detached composite, one forward per network (DDP-friendly)
        total = float(g_total.detach())
        real_c, real_b = clear2, blurred2
        if cfg["matched_reals"]:
            # the same seams as C_c and C_b: I_c' pasted into I_c where T is claimed sharp, I_b' into I_b where
            # T is claimed blurred (Eq. 1-2 with T replaced by another pool image of the right kind)
            (real_c, _), (real_b, _) = losses.matched_pairs(
                mask.detach(), source, clear, clear2, blurred, blurred2, cfg["feather"]
            )
        for model, opt, used, real, fake, key in (
            (self.dc_model, self.opt_dc, self.use_c, real_c, c_c, "d_c"),
            (self.db_model, self.opt_db, self.use_b, real_b, c_b, "d_b"),
        ):
            if used:
                d_stats = discriminator_step(model, opt, real, fake)
                stats.update({key if k == "loss" else f"{key}_{k}": v for k, v in d_stats.items()})
                total += d_stats["loss"]
        stats.update(losses.mask_stats(mask))
        stats["collapse"] = float(self._track_collapse(stats["coverage"], step + 1))
        stats["loss"] = total
        if cfg["decay_steps"] > 0:
            stats["lr"] = rates["generator"]
        return stats

    def _track_collapse(self, coverage: float, step: int) -> bool:
        eps, patience = self.cfg["collapse_eps"], self.cfg["collapse_patience"]
        if eps < coverage < 1 - eps:
            if self.collapsed_run >= patience and self.ctx.is_main:
                print(f"selfgen: masks recovered from collapse at step {step}", file=sys.stderr)
            self.collapsed_run = 0
            return False
        self.collapsed_run += 1
        if self.collapsed_run == patience:
            kind = "all-0 (everything blurred)" if coverage <= eps else "all-1 (everything in focus)"
            event = {"step": step, "kind": kind, "coverage": round(coverage, 4)}
            self.collapse_events.append(event)
            if self.ctx.is_main:
                print(
                    f"selfgen: WARNING mask collapse: {kind} masks for {patience} consecutive steps "
                    f"(step {step}, coverage {coverage:.3f}); see loss.csv / training.png",
                    file=sys.stderr,
                )
        return True

    def validate(self):
        scores = super().validate()
        return None if scores is None else {**scores, **self.critic_accuracy()}

    def inference_network(self):
        return self.exported

    def export_metadata(self, info: dict[str, Any]) -> dict[str, Any]:
        return dict(super().export_metadata(info), network="generator", classifier_sha256=self.classifier_sha or "")

    def record(self) -> dict[str, Any]:
        return dict(super().record(), classifier_sha256=self.classifier_sha)

    def extra_summary(self) -> dict[str, Any]:
        return {"collapse_events": self.collapse_events}


def adversarial_term(d, composite):
    """G's adversarial term (Eq. 3, non-saturating) for one discriminator, with D exactly as it was trained.

    D has no batch norm (spectral norm instead, ``model.py``), so its output on a fake-only batch is what it
    learned on ``[real, fake]``; eval mode only stops spectral norm's power iteration from advancing during
    G's pass (D's step advances it). D's parameters get no gradient here; the gradient reaches M through C.
    """
    from . import losses

    was_training = d.training
    d.eval()
    d.requires_grad_(False)
    try:
        return losses.generator_adversarial(d(composite, logits=True))
    finally:
        d.requires_grad_(True)
        d.train(was_training)


def discriminator_step(model, optimizer, real, fake) -> dict[str, float]:
    """One step of Eq. 4 for one discriminator on ``[real, detached fake]``; returns its loss and mean outputs."""
    import torch

    from . import losses

    n = real.shape[0]
    model.train()
    out = model(torch.cat([real, fake.detach()]), logits=True)
    loss = losses.discriminator_loss(out[:n], out[n:])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        p = torch.sigmoid(out.detach())
    return {"loss": float(loss.detach()), "real": float(p[:n].mean()), "fake": float(p[n:].mean())}


def _frozen_copy(module):
    """A copy of ``module`` that no optimiser sees, kept in eval mode (the EMA generator)."""
    import copy

    twin = copy.deepcopy(module).eval()
    twin.requires_grad_(False)
    return twin


def _update_ema(ema, model, decay: float, step: int) -> None:
    """``ema <- d * ema + (1 - d) * model`` for parameters; buffers (BN statistics) are copied.

    ``d = min(decay, step / (step + 1))`` (``step`` counted from 0): the plain mean of every G so far until the
    window reaches 1 / (1 - decay) steps, then an exponential average over that window.
    Adversarial training oscillates. On synth val, the average of a run's kept checkpoints scored better than
    any single one of them (see the model card).
    """
    import torch

    d = min(decay, step / (step + 1.0))
    with torch.no_grad():
        for p_ema, p in zip(ema.parameters(), model.parameters()):
            p_ema.lerp_(p.detach(), 1.0 - d)
        for b_ema, b in zip(ema.buffers(), model.buffers()):
            b_ema.copy_(b)


def _two(rng, n: int) -> tuple[int, int]:
    """Two different random indices (one when the pool has a single image)."""
    a = int(rng.integers(0, n))
    if n < 2:
        return a, a
    b = int(rng.integers(0, n - 1))
    return a, b + (b >= a)
