"""Each term of the selfgen objective, the composites, the frozen classifier and the parameter counts."""

from __future__ import annotations

import math

import pytest
import torch
from dbdbench_selfgen import losses
from dbdbench_selfgen.model import (
    VGG_DEPTHS,
    build_classifier,
    build_discriminator,
    build_generator,
    count_parameters,
    freeze,
)


def _images(b=2, h=8, w=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(b, 3, h, w, generator=g) for _ in range(3)]


def test_composites_follow_eq_1_2():
    t, ic, ib = _images()
    ones, zeros = torch.ones(2, 1, 8, 8), torch.zeros(2, 1, 8, 8)
    cc, cb = losses.composites(ones, t, ic, ib)
    assert torch.equal(cc, t) and torch.equal(cb, ib)  # all in focus: T is the clear composite
    cc, cb = losses.composites(zeros, t, ic, ib)
    assert torch.equal(cc, ic) and torch.equal(cb, t)  # all blurred: T is the blurred composite
    m = torch.rand(2, 1, 8, 8)
    cc, cb = losses.composites(m, t, ic, ib)
    assert torch.allclose(cc, m * t + (1 - m) * ic) and torch.allclose(cb, (1 - m) * t + m * ib)
    # a half mask pastes T's left half into I_c and T's right half into I_b
    half = torch.zeros(2, 1, 8, 8)
    half[..., :4] = 1
    cc, cb = losses.composites(half, t, ic, ib)
    assert torch.equal(cc[..., :4], t[..., :4]) and torch.equal(cc[..., 4:], ic[..., 4:])
    assert torch.equal(cb[..., :4], ib[..., :4]) and torch.equal(cb[..., 4:], t[..., 4:])


def test_feathered_matches_scipy_gaussian_and_only_softens_c_b():
    from scipy import ndimage as ndi

    mask = (torch.rand(2, 1, 24, 20, generator=torch.Generator().manual_seed(3)) > 0.5).float()
    for sigma in (1.5, 2.0):
        expected = ndi.gaussian_filter(
            mask.numpy().astype("float64"), (0, 0, sigma, sigma), mode="nearest", truncate=3.0
        )
        assert torch.allclose(losses.feathered(mask, sigma), torch.from_numpy(expected).float(), atol=1e-5)
    t, ic, ib = _images(h=24, w=20)
    cc, cb = losses.composites(mask, t, ic, ib, feather=2.0)
    cc0, cb0 = losses.composites(mask, t, ic, ib)
    assert torch.equal(cc, cc0)  # the clear composite keeps the hard mask
    soft = losses.feathered(mask, 2.0)
    assert torch.allclose(cb, (1 - soft) * t + soft * ib) and not torch.allclose(cb, cb0)
    ones = torch.ones(1, 1, 24, 20)  # a constant mask is unchanged, so Eq. 2's end points stay exact
    assert torch.allclose(losses.feathered(ones, 2.0), ones)


def test_adversarial_terms():
    z = torch.tensor([-2.0, 0.0, 3.0])
    p = torch.sigmoid(z)
    assert losses.generator_adversarial(z).item() == pytest.approx(float(-torch.log(p).mean()), rel=1e-6)
    real, fake = torch.tensor([1.5, -0.5]), torch.tensor([0.2, -3.0])
    expected = 0.5 * (-torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean())
    assert losses.discriminator_loss(real, fake).item() == pytest.approx(float(expected), rel=1e-6)
    # a discriminator that is sure and right has (almost) zero loss; G then has a large loss
    assert losses.discriminator_loss(torch.tensor([20.0]), torch.tensor([-20.0])).item() < 1e-6
    assert losses.generator_adversarial(torch.tensor([-20.0])).item() > 19


class _FeatureV(torch.nn.Module):
    """A stand-in V whose feature is the mean colour: cosines are easy to compute by hand."""

    def forward(self, x):
        f = x.mean(dim=(2, 3))
        return f, f


def test_triplet_loss_is_two_minus_two_cosines():
    v = _FeatureV()
    cc = torch.tensor([[1.0, 0.0, 0.0]])[..., None, None].expand(1, 3, 4, 4)
    rc = torch.tensor([[1.0, 1.0, 0.0]])[..., None, None].expand(1, 3, 4, 4)
    cb = torch.tensor([[0.0, 0.0, 2.0]])[..., None, None].expand(1, 3, 4, 4)
    rb = torch.tensor([[0.0, 0.0, 5.0]])[..., None, None].expand(1, 3, 4, 4)
    total, lc, lb = losses.triplet_loss(v, cc, rc, cb, rb)
    assert lc.item() == pytest.approx(1 - 1 / math.sqrt(2), rel=1e-6)
    assert lb.item() == pytest.approx(0.0, abs=1e-6)
    assert total.item() == pytest.approx(2 - 1 / math.sqrt(2) - 1.0, rel=1e-6)


def test_mask_regularisers():
    m = torch.zeros(2, 1, 4, 4)
    m[0] = 0.05
    m[1] = 0.5
    assert losses.coverage_loss(m, 0.1).item() == pytest.approx((0.05 + 0.0) / 2, rel=1e-6)
    assert losses.binarization_loss(torch.full((1, 1, 2, 2), 0.5)).item() == pytest.approx(0.5)
    binary = torch.tensor([0.0, 1.0, 1.0, 0.0]).view(1, 1, 2, 2)
    assert losses.binarization_loss(binary).item() == 0.0
    grey = torch.tensor([0.3, 0.9]).view(1, 1, 1, 2)
    assert losses.binarization_loss(grey).item() == pytest.approx((0.3 + 0.1) / 2)
    stats = losses.mask_stats(binary)
    assert stats["coverage"] == 0.5 and stats["binariness"] == 1.0


def test_frozen_classifier_gets_no_gradient_but_passes_it_to_the_mask():
    torch.manual_seed(0)
    g, v = build_generator("lite"), freeze(build_classifier("lite"))
    before = {k: t.clone() for k, t in v.state_dict().items()}
    t, ic, ib = _images(2, 32, 32)
    mask = g(t)
    cc, cb = losses.composites(mask, t, ic, ib)
    total, _, _ = losses.triplet_loss(v, cc, ic.flip(0), cb, ib.flip(0))
    total.backward()
    assert all(p.grad is None and not p.requires_grad for p in v.parameters())
    assert not v.training  # BN statistics frozen too
    assert all(torch.equal(before[k], t) for k, t in v.state_dict().items())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


def _vgg16_bn_conv(widths) -> int:
    """Parameters of VGG16's 13 conv layers (weights + bias) with BatchNorm (gamma, beta) for given block widths."""
    total, c = 0, 3
    for depth, w in zip(VGG_DEPTHS, widths):
        for _ in range(depth):
            total += c * w * 9 + w + 2 * w
            c = w
    return total


def test_full_parameter_counts_match_the_vgg16_bn_derivation():
    vgg = _vgg16_bn_conv((64, 128, 256, 512, 512))
    assert vgg == 14_714_688 + 8_448  # torchvision's vgg16_bn feature extractor: 14,723,136
    # G: encoder + DCB1..4 (1x1 on [upsampled, skip] then 3x3, each with BN) + 1x1 head
    dec = 0
    for cin, cskip, c in ((512, 512, 256), (256, 256, 128), (128, 128, 64), (64, 64, 32)):
        dec += (cin + cskip) * c + c + 2 * c + c * c * 9 + c + 2 * c
    g = vgg + dec + 32 + 1
    assert g == 15_857_569 == count_parameters(build_generator("full"))
    # D: 3-64-64s2-128-128s2-256-512-512s2 (spectral norm, no BN), 1x1 to 1024, 1x1 to 1
    d, c = 0, 3
    for w in (64, 64, 128, 128, 256, 512, 512):
        d += c * w * 9 + w
        c = w
    d += 512 * 1024 + 1024 + 1024 + 1
    assert d == 4_621_633 == count_parameters(build_discriminator("full"))
    # V: VGG16-BN blocks, global average pooling to 512, FC 128, FC 3
    v = vgg + 512 * 128 + 128 + 128 * 3 + 3
    assert v == 14_789_187 == count_parameters(build_classifier("full"))
    for build in (build_generator, build_discriminator, build_classifier):
        assert count_parameters(build("lite")) < count_parameters(build("full")) / 10


def test_shapes():
    x = torch.rand(2, 3, 48, 64)
    assert build_generator("lite")(x).shape == (2, 1, 48, 64)
    assert build_discriminator("lite")(x).shape == (2,)
    feature, logits = build_classifier("lite")(torch.rand(2, 3, 64, 64))
    assert feature.shape == (2, 192) and logits.shape == (2, 3)
    feature, _ = build_classifier("full").eval()(torch.rand(1, 3, 64, 64))
    assert feature.shape == (1, 512)
