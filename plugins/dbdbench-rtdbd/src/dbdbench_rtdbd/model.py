"""The network of Zhang & Yan (ECCV 2020), Fig. 4 and Sec. 3.4: a U-Net with a parallel gradient encoder.

* "3x3xt Conv" module: two 3x3 convolutions with t filters, each followed by BN and ReLU, then a
  stride-2 pooling - except the last image module, the one "before concatenation", which keeps its size.
* The image's horizontal and vertical partial derivatives (fixed central differences of the luminance)
  pass through their own encoder of the same shape; both encodings are concatenated at the end of the
  encoder, fused by a "3x3x256" module and regularised by dropout 0.2.
* "3x3xt Deconv": stride-2 3x3 transposed convolutions (BN, ReLU), each followed by the encoder-decoder
  shortcut (concatenation) and a 3x3 convolution that merges them; a 1x1 convolution and a sigmoid give the
  focus map (1 = in focus).

The paper gives no widths. It reports "Model Size" 26.73M with the gradient input and 7.79M without, in
the same column where BTBNet (a VGG-scale network) has 200M and the DSS saliency network 238M: those are
megabytes of float32 weights, i.e. about 6.68M and 1.95M parameters. ``full`` and ``nograd`` are sized to
match (a test checks within 15%); ``lite`` is the same design, narrower, for real-time use on a CPU, plus a
global-context branch (not in the paper; ``lite-plain`` is without it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import torch
from torch import nn


@dataclass(frozen=True)
class Shape:
    """Widths of one variant. ``grad`` is None for the ablation without the gradient input."""

    enc: tuple[int, ...]
    grad: tuple[int, ...] | None
    fuse: int
    dec: tuple[int, ...]  # one per shortcut, deepest first
    context: int = 0  # hidden width of the global-context branch after the fusion module; 0 = none (the paper)


VARIANTS: dict[str, Shape] = {
    # Paper-sized: ~6.7M parameters (26.7 MB) with the gradient encoder, ~1.95M (7.8 MB) without.
    "full": Shape(enc=(16, 32, 64, 128, 192), grad=(32, 64, 128, 256, 416), fuse=256, dec=(128, 64, 32, 16)),
    "nograd": Shape(enc=(16, 32, 64, 128, 192), grad=None, fuse=256, dec=(128, 64, 32, 16)),
    # Real-time on a CPU: the same design at a fraction of the width, without the context branch (this was
    # ``lite`` until stage 7; weights files whose metadata says "lite" and that have no context branch are this).
    # (8-channel full-resolution modules: ~0.96M parameters, ~20 ms at 320x320 on 2 CPU cores when BN is folded
    # and tensors are channels-last; see the plugin README for the measurement).
    "lite-plain": Shape(enc=(8, 16, 32, 64, 128), grad=(8, 16, 32, 64, 96), fuse=128, dec=(64, 32, 16, 8)),
    # lite-plain with its two deepest levels (stride 16: context for smooth surfaces) wider, its full-resolution
    # modules unchanged (they set the latency): ~1.73M parameters, ~1.15x its CPU latency. Grown from trained
    # lite-plain weights by ``widen.py``, which keeps what they compute.
    "lite-wide": Shape(enc=(8, 16, 32, 64, 192), grad=(8, 16, 32, 64, 128), fuse=192, dec=(96, 32, 16, 8)),
    # lite-plain with 12-channel full-resolution modules (image and gradient encoders, last decoder module): the
    # finest texture is where its errors were (faint in-focus texture called blurred; see the model card), and
    # these modules set the latency. Grown from trained lite-plain weights by ``widen.py`` (stage 7e).
    "lite-fine": Shape(enc=(12, 16, 32, 64, 128), grad=(12, 16, 32, 64, 96), fuse=128, dec=(64, 32, 16, 12)),
    # The ablation without the gradient input at lite-plain's scale (the paper's "BCE without image gradient").
    "lite-nograd": Shape(enc=(8, 16, 32, 64, 128), grad=None, fuse=128, dec=(64, 32, 16, 8)),
}
# The shipped variant: lite-plain plus a global-context branch (not in the paper; :class:`GlobalContext`): a
# textureless surface looks the same sharp or blurred, and whether it is in focus shows only elsewhere in the
# image (if nothing else is sharp, it is the focused plane). ~33k more parameters, negligible latency.
# ``widen.py`` adds the branch to trained lite-plain weights with its output at zero, so it starts computing what
# lite-plain computes. Trained in stage 7 under the name ``lite-ctx``.
VARIANTS["lite"] = replace(VARIANTS["lite-plain"], context=64)

# Variant names that weights files written before stage 7 carry in their metadata, by whether the file has a
# context branch: see :func:`variant_of_weights`.
_RENAMED = {("lite", False): "lite-plain", ("lite-ctx", True): "lite"}


def variant_of_weights(meta: dict[str, str], keys: Iterable[str]) -> str:
    """The variant a weights file was trained as, from its metadata and tensor names (``keys``), mapping the
    names used before ``lite`` gained its context branch (old "lite" files are ``lite-plain``; "lite-ctx" files
    are ``lite``)."""
    name = meta.get("variant", "lite")
    has_context = any(k.startswith("context.") for k in keys)
    return _RENAMED.get((name, has_context), name)


def conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ConvModule(nn.Module):
    """The paper's "3x3xt Conv": two conv+BN+ReLU, then stride-2 pooling unless ``pool`` is False."""

    def __init__(self, cin: int, t: int, pool: bool):
        super().__init__()
        self.body = nn.Sequential(conv_bn_relu(cin, t), conv_bn_relu(t, t))
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x):
        features = self.body(x)
        return features, self.pool(features)


class Encoder(nn.Module):
    def __init__(self, cin: int, widths: tuple[int, ...]):
        super().__init__()
        mods, c = [], cin
        for i, t in enumerate(widths):
            mods.append(ConvModule(c, t, pool=i < len(widths) - 1))
            c = t
        self.mods = nn.ModuleList(mods)

    def forward(self, x):
        skips = []
        for mod in self.mods:
            features, x = mod(x)
            skips.append(features)
        return x, skips[:-1]


class DeconvModule(nn.Module):
    """The paper's "3x3xt Deconv" (stride 2) followed by the shortcut from the encoder and a merging conv."""

    def __init__(self, cin: int, cskip: int, t: int):
        super().__init__()
        self.up = nn.Sequential(
            nn.ConvTranspose2d(cin, t, 3, stride=2, padding=1, output_padding=1, bias=False),
            nn.BatchNorm2d(t),
            nn.ReLU(inplace=True),
        )
        self.merge = conv_bn_relu(t + cskip, t)

    def forward(self, x, skip):
        return self.merge(torch.cat([self.up(x), skip], dim=1))


class GlobalContext(nn.Module):
    """Adds to every position of the fused features a vector computed from the whole image's features.

    The features' spatial mean and maximum (how much sharp evidence the image holds, and how strong its
    strongest is) pass through two 1x1 convolutions; the result is broadcast back and added. The second
    convolution starts at zero, so a network that gains this branch first computes exactly what it did.
    """

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.squeeze = nn.Conv2d(2 * channels, hidden, 1)
        self.expand = nn.Conv2d(hidden, channels, 1)
        nn.init.zeros_(self.expand.weight)
        nn.init.zeros_(self.expand.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=(2, 3), keepdim=True), x.amax(dim=(2, 3), keepdim=True)], dim=1)
        return x + self.expand(torch.relu(self.squeeze(pooled)))


def image_gradients(x: torch.Tensor) -> torch.Tensor:
    """Horizontal and vertical partial derivatives of the luminance (central differences, replicate border)."""
    lum = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    p = nn.functional.pad(lum, (1, 1, 1, 1), mode="replicate")
    dx = (p[:, :, 1:-1, 2:] - p[:, :, 1:-1, :-2]) * 0.5
    dy = (p[:, :, 2:, 1:-1] - p[:, :, :-2, 1:-1]) * 0.5
    return torch.cat([dx, dy], dim=1)


class RTDBDNet(nn.Module):
    def __init__(self, shape: Shape, dropout: float = 0.2):
        super().__init__()
        self.shape = shape
        self.image_encoder = Encoder(3, shape.enc)
        self.grad_encoder = Encoder(2, shape.grad) if shape.grad else None
        cat = shape.enc[-1] + (shape.grad[-1] if shape.grad else 0)
        self.fuse = conv_bn_relu(cat, shape.fuse)
        self.context = GlobalContext(shape.fuse, shape.context) if shape.context else None
        self.dropout = nn.Dropout2d(dropout) if dropout else nn.Identity()
        skips = list(reversed(shape.enc[:-1]))
        if len(shape.dec) != len(skips):
            raise ValueError("one decoder width per shortcut")
        ups, c = [], shape.fuse
        for t, cs in zip(shape.dec, skips):
            ups.append(DeconvModule(c, cs, t))
            c = t
        self.decoder = nn.ModuleList(ups)
        self.head = nn.Conv2d(c, 1, 1)

    @property
    def stride(self) -> int:
        return 2 ** (len(self.shape.enc) - 1)

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """``x``: B x 3 x H x W in [0, 1], H and W multiples of :attr:`stride`; returns B x 1 x H x W in [0, 1]
        (or the logits, for the loss: DistributedDataParallel only synchronises what goes through ``forward``)."""
        out = self.logits(x)
        return out if logits else torch.sigmoid(out)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        deep, skips = self.image_encoder(x)
        if self.grad_encoder is not None:
            grad_deep, _ = self.grad_encoder(image_gradients(x))
            deep = torch.cat([deep, grad_deep], dim=1)
        y = self.fuse(deep)
        if self.context is not None:
            y = self.context(y)
        y = self.dropout(y)
        for mod, skip in zip(self.decoder, reversed(skips)):
            y = mod(y, skip)
        return self.head(y)


def build(variant: str) -> RTDBDNet:
    return RTDBDNet(VARIANTS[variant])


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def fuse_for_inference(model: RTDBDNet) -> RTDBDNet:
    """Fold every BatchNorm into the convolution before it (eval mode only): same outputs, fewer passes
    over memory, which is most of a small network's time on a CPU."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model.eval()
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        layers = list(seq)
        for i in range(len(layers) - 1):
            conv, bn = layers[i], layers[i + 1]
            if isinstance(bn, nn.BatchNorm2d) and isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)):
                seq[i] = fuse_conv_bn_eval(conv, bn, transpose=isinstance(conv, nn.ConvTranspose2d))
                seq[i + 1] = nn.Identity()
    return model
