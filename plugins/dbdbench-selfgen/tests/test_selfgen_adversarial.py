"""Issue 24: G's adversarial term must follow the discriminator as D was trained.

The earlier D had batch norm: trained on ``[real, fake]`` batches but queried by G on fake-only batches, it
normalised away what it had learned, and G's gradient with respect to the mask was nearly orthogonal to the
trained D's (cosine 0.0-0.1). Here a small D is trained for a few steps on fixed composites with the trainer's
own D step, then G's gradient (the trainer's own G term) is compared with the gradient of D evaluated in the
regime it was trained in (``[real, fake]`` together, train mode, its state restored afterwards).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dbdbench_selfgen import losses
from dbdbench_selfgen.model import build_discriminator
from dbdbench_selfgen.train import adversarial_term, discriminator_step
from scipy import ndimage

B, SIZE = 4, 64


def _images(rng, sigma):
    """B noise textures, Gaussian-blurred by ``sigma`` px (0: sharp), RGB in [0, 1]."""
    x = rng.uniform(0, 1, (B, 3, SIZE, SIZE))
    if sigma:
        x = ndimage.gaussian_filter(x, (0, 0, sigma, sigma))
        x = (x - x.min()) / (x.max() - x.min())
    return torch.tensor(x, dtype=torch.float32)


def _fixed_batch(side):
    rng = np.random.default_rng(0)
    sharp, blurred = _images(rng, 0), _images(rng, 3)
    source = torch.cat([sharp[..., : SIZE // 2], blurred[..., SIZE // 2 :]], dim=-1)  # left sharp, right blurred
    mask = torch.tensor(
        ndimage.gaussian_filter(rng.uniform(0, 1, (B, 1, SIZE, SIZE)), (0, 0, 6, 6)), dtype=torch.float32
    )
    mask = (mask - mask.amin()) / (mask.amax() - mask.amin())
    clear, blur_bg = _images(rng, 0), _images(rng, 3)
    real = _images(rng, 0) if side == "clear" else _images(rng, 3)
    return real, source, clear, blur_bg, mask


def _composite(side, mask, source, clear, blurred):
    c_c, c_b = losses.composites(mask, source, clear, blurred)
    return c_c if side == "clear" else c_b


@pytest.mark.parametrize("side", ["clear", "blurred"])
def test_generator_gradient_follows_the_trained_discriminator(side):
    torch.manual_seed(0)
    real, source, clear, blurred, mask = _fixed_batch(side)
    d = build_discriminator("lite")
    opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for _ in range(40):
        discriminator_step(d, opt, real, _composite(side, mask, source, clear, blurred))

    def grad_wrt_mask(view):
        state = {k: v.clone() for k, v in d.state_dict().items()}
        m = mask.clone().requires_grad_(True)
        comp = _composite(side, m, source, clear, blurred)
        if view == "trainer":
            loss = adversarial_term(d, comp)
        else:  # D in the regime of its own step: [real, fake] together, train mode
            d.train()
            loss = losses.generator_adversarial(d(torch.cat([real, comp]), logits=True)[B:])
        (g,) = torch.autograd.grad(loss, m)
        d.load_state_dict(state)
        return g.flatten()

    reference, trainer = grad_wrt_mask("as trained"), grad_wrt_mask("trainer")
    assert reference.abs().sum() > 0
    cosine = float(torch.nn.functional.cosine_similarity(trainer, reference, dim=0))
    assert cosine > 0.9, f"G's adversarial gradient does not follow the trained D (cosine {cosine:.3f})"


def test_adversarial_term_leaves_discriminator_trainable_and_unchanged():
    d = build_discriminator("lite")
    d.train()
    before = {k: v.clone() for k, v in d.state_dict().items()}
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    adversarial_term(d, x).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in d.parameters())
    assert all(p.requires_grad for p in d.parameters()) and d.training
    after = d.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # no power-iteration step in G's pass


def test_validation_measures_both_critics_with_g_and_true_masks(tiny, tmp_path):
    import csv
    from pathlib import Path

    from dbdbench.api import open_dataset
    from dbdbench.training import TrainRequest, run_training

    ds = open_dataset("synth", split="train", options=tiny["dataset_options"])
    options = dict(tiny["options"], lb="false", val_split="val", val_n="2", val_size="64", val_every="1")
    out = Path(tmp_path / "run")
    request = TrainRequest(
        method_id="selfgen", dataset=ds, out=out, options=options, steps=2, batch_size=2, device="cpu", seed=0
    )
    run_training(request)
    with open(out / "val.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["step"] for r in rows] == ["1", "2"]
    for key in ("d_c_acc_g", "d_b_acc_g", "d_c_acc_gt", "d_b_acc_gt"):
        assert 0.0 <= float(rows[-1][key]) <= 1.0
