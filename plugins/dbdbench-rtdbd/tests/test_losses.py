"""Each term of Zhang & Yan's objective, the swap operator and the hard-mining region, on small tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dbdbench_rtdbd.losses import (
    Objective,
    hard_region,
    pixel_weights,
    soft_iou_loss,
    swap,
    swap_boxes,
    total_loss,
    weighted_bce,
)
from dbdbench_rtdbd.model import build


def test_swap_boxes_never_overlap_and_stay_inside():
    rng = np.random.default_rng(0)
    for _ in range(500):
        y1, x1, y2, x2 = swap_boxes(rng, 64, 48, 16)
        assert 0 <= y1 <= 48 and 0 <= y2 <= 48 and 0 <= x1 <= 32 and 0 <= x2 <= 32
        assert abs(y1 - y2) >= 16 or abs(x1 - x2) >= 16


def test_swap_exchanges_exactly_two_patches_and_is_an_involution():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    boxes = [(0, 0, 4, 4), (4, 0, 0, 4)]
    y = swap(x, boxes, 4)
    assert torch.equal(y[0, :, :4, :4], x[0, :, 4:, 4:]) and torch.equal(y[0, :, 4:, 4:], x[0, :, :4, :4])
    assert torch.equal(y[0, :, :4, 4:], x[0, :, :4, 4:])  # untouched elsewhere
    assert torch.equal(swap(y, boxes, 4), x)
    assert not torch.equal(y, x)


def test_swap_is_consistent_across_image_gt_weights_and_prediction():
    """f applied to image, GT, W and O moves the same pixels: a pixel-wise function commutes with f."""
    rng = np.random.default_rng(1)
    image = torch.rand(3, 3, 32, 32)
    boxes = [swap_boxes(rng, 32, 32, 8) for _ in range(3)]
    focus = (image.mean(1, keepdim=True) > 0.5).float()
    salient = (image[:, :1] > 0.3).float()
    w = pixel_weights(salient, focus, 2.0)
    assert torch.equal(swap(w, boxes, 8), pixel_weights(swap(salient, boxes, 8), swap(focus, boxes, 8), 2.0))
    pixelwise = lambda t: (t.mean(1, keepdim=True) > 0.5).float()
    assert torch.equal(pixelwise(swap(image, boxes, 8)), swap(pixelwise(image), boxes, 8))


def test_hard_region_is_the_symmetric_difference():
    s = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    f = torch.tensor([[0.0, 1.0, 0.0, 1.0]])
    h = hard_region(s, f)
    expected = ((s.bool() | f.bool()) & ~(s.bool() & f.bool())).float()  # (S u F) - (S n F)
    assert torch.equal(h, expected) and h.tolist() == [[0.0, 1.0, 1.0, 0.0]]
    assert pixel_weights(s, f, 2.0).tolist() == [[1.0, 2.0, 2.0, 1.0]]


def test_weighted_bce_matches_the_formula():
    logits = torch.tensor([[2.0, -1.0, 0.5]])
    target = torch.tensor([[1.0, 0.0, 0.0]])
    w = torch.tensor([[1.0, 2.0, 1.0]])
    p = torch.sigmoid(logits)
    by_hand = (-(w * (target * p.log() + (1 - target) * (1 - p).log()))).mean()
    assert torch.allclose(weighted_bce(logits, target, w), by_hand, atol=1e-6)


class _Constant(torch.nn.Module):
    """A "network" whose logits are a fixed map, so each loss term can be computed by hand."""

    def __init__(self, logits):
        super().__init__()
        self.value = logits

    def logits(self, x):
        return self.value[: x.shape[0]] if x.shape[0] == self.value.shape[0] else self.value.repeat(2, 1, 1, 1)


@pytest.mark.parametrize(
    "swap_on,self_on,hard", [(False, False, False), (True, False, False), (True, True, False), (True, True, True)]
)
def test_total_loss_has_exactly_the_switched_terms(swap_on, self_on, hard):
    torch.manual_seed(0)
    image = torch.rand(2, 3, 16, 16)
    focus = (torch.rand(2, 1, 16, 16) > 0.5).float()
    salient = (torch.rand(2, 1, 16, 16) > 0.5).float()
    boxes = [(0, 0, 8, 8), (8, 8, 0, 0)]
    model = build("lite").eval()
    obj = Objective(swap=swap_on, self_sup=self_on, hard_mining=hard)
    terms = total_loss(model, image, focus, salient, boxes, 8, obj)
    expected = {"bce", "loss"} | ({"bce_swap"} if swap_on else set()) | ({"self"} if self_on else set())
    assert set(terms) == expected
    assert torch.allclose(terms["loss"], sum(v for k, v in terms.items() if k != "loss"))
    # Recompute every term by hand from the same network outputs.
    with torch.no_grad():
        o, o_sw = model.logits(torch.cat([image, swap(image, boxes, 8)])).chunk(2)
    w = pixel_weights(salient, focus, 2.0) if hard else None
    assert torch.allclose(terms["bce"], weighted_bce(o, focus, w), atol=1e-5)
    if swap_on:
        w_sw = swap(w, boxes, 8) if hard else None
        assert torch.allclose(terms["bce_swap"], weighted_bce(o_sw, swap(focus, boxes, 8), w_sw), atol=1e-5)
    if self_on:
        l_self = (torch.sigmoid(o_sw) - swap(torch.sigmoid(o), boxes, 8)).abs().mean()
        assert torch.allclose(terms["self"], 0.2 * l_self, atol=1e-6)


def test_soft_iou_matches_a_per_image_loop_and_rewards_the_right_region():
    torch.manual_seed(1)
    logits = torch.randn(3, 1, 8, 8)
    target = (torch.rand(3, 1, 8, 8) > 0.6).float()
    target[2] = 0  # an image with no in-focus pixel stays defined
    by_hand = []
    for o, g in zip(torch.sigmoid(logits), target):
        inter = float((o * g).sum())
        union = float(o.sum() + g.sum() - (o * g).sum())
        by_hand.append(1 - (inter + 1) / (union + 1))
    assert torch.allclose(soft_iou_loss(logits, target), torch.tensor(np.mean(by_hand), dtype=torch.float32), atol=1e-6)
    perfect = torch.where(target > 0.5, 30.0, -30.0)
    assert float(soft_iou_loss(perfect, target)) < 1e-6
    assert float(soft_iou_loss(-perfect, target)) > 0.5


def test_iou_term_is_off_by_default_and_weighted_when_on():
    torch.manual_seed(0)
    image, focus = torch.rand(2, 3, 16, 16), (torch.rand(2, 1, 16, 16) > 0.5).float()
    model = build("lite").eval()
    off = Objective(swap=False, self_sup=False, hard_mining=False)
    assert "iou" not in total_loss(model, image, focus, torch.zeros_like(focus), [], 8, off)
    on = Objective(swap=False, self_sup=False, hard_mining=False, iou=0.5)
    terms = total_loss(model, image, focus, torch.zeros_like(focus), [], 8, on)
    with torch.no_grad():
        expected = 0.5 * soft_iou_loss(model.logits(image), focus)
    assert torch.allclose(terms["iou"], expected, atol=1e-6)
    assert torch.allclose(terms["loss"], terms["bce"] + terms["iou"])
