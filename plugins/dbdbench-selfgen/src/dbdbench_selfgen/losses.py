"""The objective of Zhao, Shang & Lu (CVPR 2021), each term a small function (tested one by one).

Notation: ``T`` a partially blurred source (never its mask), ``M = G(T)`` (1 = in focus), ``I_c`` / ``I_b`` a
random real full-clear / full-blurred image, ``I_c'`` / ``I_b'`` *another* one of each.

* Composites (Eq. 1-2): ``C_c = M*T + (1-M)*I_c`` and ``C_b = (1-M)*T + M*I_b``.
* Adversarial term of G (Eq. 3): the paper writes ``log(1 - D(C))``; the authors' code minimises the
  non-saturating ``BCE(D(C), 1) = -log D(C)`` for each discriminator, as we do (same fixed point, useful
  gradients while D wins).
* Discriminators (Eq. 4): each minimises ``0.5 * (BCE(D(real), 1) + BCE(D(C), 0))`` with its own optimiser,
  on ``I_c'`` (``I_b'``) as the real image and the detached composite as the fake (the authors' code).
* Bilateral triplet-excavating term (Eq. 5): ``L_B = 2 - cos(V(C_c), V(I_c')) - cos(V(C_b), V(I_b'))`` with V's
  512-d pooled feature, V frozen (eval mode, no parameter gradient; the gradient reaches M through C).
* Mask regularisers (in the code, not in the paper): ``ReLU(0.1 - mean(M))`` per image, averaged (no empty
  masks) and ``mean(min(M, 1 - M))`` (binary masks), each with weight 1.
* Total for G (Eq. 6 as the code applies it): ``eta * L_G + L_B + coverage + binarisation`` with eta = 0.01.
* Not in the paper, off by default: ``feather`` > 0 pastes into C_b through M smoothed by a Gaussian of that
  many pixels. Why: a hard-edged mask cuts a sharp seam between two blurred images, and a sharp seam is
  exactly what V and D_b learn to call "not full-blurred". So Eq. 2 penalises the true mask for its edges.
  With the packaged V and the synth val masks, L_B's blurred half is 0.37 for the true mask, nearly as bad
  as pasting nothing (0.41), and 0.09 once the mask is feathered by 2 px
  (``benchmarks/probe_selfgen_discriminators.py``; model card, runs 16-18).
* Not in the paper, off by default: seam-matched reals and a discriminator warm-up (``pool_composites``,
  ``random_masks``). A composite always carries a paste seam and a real pool image never does, so D can win by
  finding seams instead of blur, and then it has nothing to teach G (issue 24: D sat at chance). With matched
  reals, D's real image is two pool images of the same kind pasted through the *same* mask as the fake, so
  the only difference left between real and fake is blur. The warm-up trains D alone, before G moves, on pool
  images pasted through random blob masks (blur pasted into a clear image, sharpness into a blurred one):
  a blur detector learned from the pools only, so that G's first adversarial gradients point somewhere.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def composites(
    mask: torch.Tensor, source: torch.Tensor, clear: torch.Tensor, blurred: torch.Tensor, feather: float = 0.0
):
    """(C_c, C_b) of Eq. 1-2; ``mask`` is B x 1 x H x W and broadcasts over the colour channels.

    ``feather`` > 0 (not in the paper): C_b uses ``feathered(mask, feather)``, C_c the mask as it is.
    """
    c_c = mask * source + (1.0 - mask) * clear
    soft = feathered(mask, feather) if feather > 0 else mask
    c_b = (1.0 - soft) * source + soft * blurred
    return c_c, c_b


def feathered(mask: torch.Tensor, sigma: float) -> torch.Tensor:
    """``mask`` smoothed by a normalised Gaussian of ``sigma`` px (separable, edges replicated); differentiable."""
    radius = max(1, math.ceil(3.0 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=mask.dtype, device=mask.device)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    padded = F.pad(mask, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(padded, kernel.view(1, 1, 1, -1))
    return F.conv2d(out, kernel.view(1, 1, -1, 1))


def random_masks(n: int, size: int, generator, device=None) -> torch.Tensor:
    """``n`` random blob masks (n x 1 x size x size, values 0 / 1): smooth noise on a 3..8 grid, bilinearly
    upsampled and cut at a random quantile, so each mask covers 15-85% of the crop with one or a few blobs.
    Seeded by ``generator`` (a pure function of it, for exact resume)."""
    masks = []
    for _ in range(n):
        cells = int(torch.randint(3, 9, (1,), generator=generator))
        noise = torch.rand(1, 1, cells, cells, generator=generator)
        field = F.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)
        cover = 0.15 + 0.7 * float(torch.rand(1, generator=generator))
        cut = torch.quantile(field.flatten(), 1.0 - cover)
        masks.append((field > cut).float())
    out = torch.cat(masks)
    return out if device is None else out.to(device)


def pool_composites(mask: torch.Tensor, base: torch.Tensor, same: torch.Tensor, other: torch.Tensor, soft=None):
    """``(real, fake)`` for one discriminator: ``base`` with ``same`` (real) or ``other`` (fake) pasted where
    ``mask`` is 1 (through ``soft`` when given, e.g. a feathered mask), so real and fake share the seam.

    D_c: base and same are clear, other is blurred (or the source T); D_b: base and same are blurred, other
    clear (or T, pasted where it is claimed blurred).
    """
    m = mask if soft is None else soft
    return m * same + (1.0 - m) * base, m * other + (1.0 - m) * base


def warmup_pairs(mask, clear, clear2, blurred, blurred2, feather: float = 0.0):
    """``(real, fake)`` for D_c and for D_b in the warm-up: blur pasted into a clear image and sharpness into a
    blurred one through a random ``mask`` (D_b's feathered when ``feather`` > 0), each real seam-matched."""
    soft = feathered(mask, feather) if feather > 0 else None
    return pool_composites(mask, clear, clear2, blurred), pool_composites(mask, blurred, blurred2, clear, soft)


def matched_pairs(mask, source, clear, clear2, blurred, blurred2, feather: float = 0.0):
    """``(real, fake)`` for D_c and for D_b with seam-matched reals: the fakes are C_c and C_b (Eq. 1-2), the
    reals I_c' pasted into I_c where M claims focus and I_b' into I_b where M claims blur (through M feathered
    when ``feather`` > 0, as C_b is)."""
    soft = feathered(mask, feather) if feather > 0 else mask
    return pool_composites(mask, clear, clear2, source), pool_composites(1.0 - soft, blurred, blurred2, source)


def generator_adversarial(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating form of one term of Eq. 3: ``-log D(C)``, from D's logits."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """One discriminator's half of Eq. 4 as a loss to minimise: ``0.5 * (-log D(real) - log(1 - D(fake)))``."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return 0.5 * (real + fake)


def cosine_term(v, composite: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``1 - cos(V(composite), V(reference))`` averaged over the batch (one half of Eq. 5)."""
    f_comp, _ = v(composite)
    with torch.no_grad():
        f_ref, _ = v(reference)
    return (1.0 - F.cosine_similarity(f_comp, f_ref, dim=1)).mean()


def triplet_loss(v, c_c: torch.Tensor, ref_clear: torch.Tensor, c_b: torch.Tensor, ref_blurred: torch.Tensor):
    """Eq. 5: ``L_B = 2 - cos(V(C_c), V(I_c')) - cos(V(C_b), V(I_b'))``; returns (L_B, clear half, blurred half)."""
    lc = cosine_term(v, c_c, ref_clear)
    lb = cosine_term(v, c_b, ref_blurred)
    return lc + lb, lc, lb


def coverage_loss(mask: torch.Tensor, minimum: float = 0.1) -> torch.Tensor:
    """``ReLU(minimum - mean(M))`` per image, averaged: penalises (nearly) empty masks."""
    return F.relu(minimum - mask.mean(dim=(1, 2, 3))).mean()


def binarization_loss(mask: torch.Tensor) -> torch.Tensor:
    """``mean(min(M, 1 - M))``: zero for a binary mask, 0.5 for an all-grey one."""
    return torch.minimum(mask, 1.0 - mask).mean()


def mask_stats(mask: torch.Tensor) -> dict[str, float]:
    """Coverage (mean M: the in-focus fraction claimed) and binariness (1 = every pixel 0 or 1, 0 = all 0.5)."""
    with torch.no_grad():
        m = mask.detach().float()
        return {"coverage": float(m.mean()), "binariness": float(1.0 - 2.0 * torch.minimum(m, 1.0 - m).mean())}
