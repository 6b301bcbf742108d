"""The training objective of Zhang & Yan (ECCV 2020), Sec. 3.2-3.3, every term switchable for ablations.

* Eq. 1 / Eq. 6: BCE between the prediction O of image I and its GT G, pixels weighted by W (hard mining).
  The paper writes only the positive term ``-G log O`` but names it BCE and trains a sigmoid output; we use
  the full binary cross-entropy (without the negative term a constant 1 would minimise Eq. 1).
* Eq. 2 / Eq. 7: the same on the patch-swapped image I' = f(I) with G' = f(G), W' = f(W).
* Eq. 4: self-supervision, mean |O' - f(O)|, weighted by lambda_s = 0.2 (Eq. 5 / Eq. 8).
* Hard mining (Sec. 3.3): H = (S u F) - (S n F) (salient but blurred, or in focus but not salient), weighted x2.
* Not in the paper, off by default: a per-image soft IoU of the in-focus region (``iou`` > 0 weights it). BCE
  scores every pixel alike, while the benchmark averages F-measure per image, so an image whose in-focus
  region is small counts as much as one that is mostly sharp; the soft IoU is a per-image region term that
  pulls training towards that score.

``f`` swaps two equal, non-overlapping square patches; one swap per image, the same boxes for I, G, W and O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Objective:
    swap: bool = True  # Eq. 2 (the augmented BCE)
    self_sup: bool = True  # Eq. 4
    lambda_s: float = 0.2
    hard_mining: bool = True  # Eq. 6-7
    hard_weight: float = 2.0
    iou: float = 0.0  # weight of the per-image soft IoU term (not in the paper; 0 = off)


def swap_boxes(
    rng: np.random.Generator, height: int, width: int, patch: int, tries: int = 50
) -> tuple[int, int, int, int]:
    """Top-left corners (y1, x1, y2, x2) of two non-overlapping ``patch`` x ``patch`` squares."""
    if 2 * patch > max(height, width) or patch > min(height, width):
        raise ValueError(f"patch {patch} too large for a {height}x{width} crop")
    for _ in range(tries):
        y1, y2 = rng.integers(0, height - patch + 1, size=2)
        x1, x2 = rng.integers(0, width - patch + 1, size=2)
        if abs(int(y1) - int(y2)) >= patch or abs(int(x1) - int(x2)) >= patch:
            return int(y1), int(x1), int(y2), int(x2)
    # Fall back to two corners, always disjoint when 2 * patch <= the longer side.
    if width >= 2 * patch:
        return 0, 0, 0, width - patch
    return 0, 0, height - patch, 0


def swap(x: torch.Tensor, boxes: list[tuple[int, int, int, int]], patch: int) -> torch.Tensor:
    """f(x): exchange the two patches of each image (B x C x H x W). Differentiable; ``x`` is not modified."""
    out = x.clone()
    for b, (y1, x1, y2, x2) in enumerate(boxes):
        out[b, :, y1 : y1 + patch, x1 : x1 + patch] = x[b, :, y2 : y2 + patch, x2 : x2 + patch]
        out[b, :, y2 : y2 + patch, x2 : x2 + patch] = x[b, :, y1 : y1 + patch, x1 : x1 + patch]
    return out


def hard_region(salient: torch.Tensor, focus: torch.Tensor) -> torch.Tensor:
    """H = (S u F) - (S n F), as a 0/1 float mask (the symmetric difference: salient xor in focus)."""
    s, f = salient > 0.5, focus > 0.5
    return ((s | f) & ~(s & f)).float()


def pixel_weights(salient: torch.Tensor, focus: torch.Tensor, weight: float) -> torch.Tensor:
    """W: ``weight`` on the hard region H, 1 elsewhere."""
    return 1.0 + (weight - 1.0) * hard_region(salient, focus)


def weighted_bce(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean over pixels of W * BCE (from logits, numerically stable)."""
    return F.binary_cross_entropy_with_logits(logits, target, weight=weights, reduction="mean")


def soft_iou_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Mean over images of 1 - sum(O G) / sum(O + G - O G), O = sigmoid(logits); ``eps`` keeps an image with
    no in-focus pixel defined (its loss then falls to 0 as the prediction empties)."""
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1)
    inter = (prob * target).sum(1)
    union = (prob + target - prob * target).sum(1)
    return (1.0 - (inter + eps) / (union + eps)).mean()


def total_loss(model, image, focus, salient, boxes, patch: int, obj: Objective) -> dict[str, torch.Tensor]:
    """L_total = L_weighted + L_weightedaug + lambda_s L_self (Eq. 8), with the switched-off terms left out.

    The original and swapped images go through the network as one batch (one pass, BN sees both).
    """
    weights = pixel_weights(salient, focus, obj.hard_weight) if obj.hard_mining else None
    terms: dict[str, torch.Tensor] = {}
    if obj.swap or obj.self_sup:
        swapped = swap(image, boxes, patch)
        logits_all = model.logits(torch.cat([image, swapped]))
        logits, logits_sw = logits_all.chunk(2)
    else:
        logits = model.logits(image)
    terms["bce"] = weighted_bce(logits, focus, weights)
    if obj.iou:
        terms["iou"] = obj.iou * soft_iou_loss(logits, focus)
    if obj.swap:
        w_sw = swap(weights, boxes, patch) if weights is not None else None
        terms["bce_swap"] = weighted_bce(logits_sw, swap(focus, boxes, patch), w_sw)
    if obj.self_sup:
        o_sw = torch.sigmoid(logits_sw)  # O' = Phi(f(I))
        o_swapped = swap(torch.sigmoid(logits), boxes, patch)  # O'' = f(Phi(I))
        terms["self"] = obj.lambda_s * (o_sw - o_swapped).abs().mean()
    terms["loss"] = sum(terms.values())
    return terms
