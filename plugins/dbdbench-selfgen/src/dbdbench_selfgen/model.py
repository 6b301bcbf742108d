"""The three networks of Zhao, Shang & Lu (CVPR 2021), Sec. 3.5, with the details the paper leaves to its code.

* Generator G (the DBD network, the only one inference needs): the five convolution blocks CB1..CB5 of
  VGG16 (2, 2, 3, 3, 3 convolutions of 3x3, each with BN and ReLU; not ImageNet-pretrained) as the encoder,
  max-pooling between blocks; four decoder blocks DCB1..DCB4, each preceded by a x2 bilinear upsampling,
  each joined by the skip connection of CB4..CB1 (concatenation), then a 1x1 convolution to one channel
  and a sigmoid: the mask M, 1 = in focus, at the input resolution (stride 16).
* Discriminators D_c and D_b (one architecture): a stack of 3x3 convolutions with widths
  3-64-64s2-128-128s2-256-512-512s2 (LeakyReLU 0.2), global average pooling, a 1x1 convolution to 1024
  (LeakyReLU 0.2), a 1x1 convolution to 1 and a sigmoid. Every convolution is spectrally normalised and
  there is **no batch norm**: a batch-normalised D behaves differently on the batch it is trained on
  ([real, fake]) and on the batch G queries it with (fake only), and G's adversarial gradient then lost
  D's direction (cosine 0.0-0.1 with the trained D's gradient; issue 24). With spectral norm, D computes the
  same function whatever the batch holds, so G follows exactly the D that was trained.
* Classifier V: the same VGG16-BN blocks (pooling after each), global average pooling to the 512-d feature
  used by the bilateral triplet-excavating loss (Eq. 5), then FC 128 (ReLU) and FC 3 (full clear / full
  blurred / mixed).

Every network takes RGB in [0, 1] and normalises it to [-1, 1] itself (the authors' input transform), so a
composite may be formed in either space.

``full`` is the paper's size; ``lite`` keeps every layer and halves/quarters the widths so that both stages
train in about half an hour on a 2-core CPU. Parameter counts of ``full`` (derived in the README and checked
by the tests): G 15,857,569, D 4,621,633, V 14,789,187.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

#: Convolutions per VGG16 block.
VGG_DEPTHS = (2, 2, 3, 3, 3)
#: Classes of V, in this order.
CLASSES = ("clear", "blurred", "mixed")


@dataclass(frozen=True)
class Shape:
    """Widths of one variant."""

    enc: tuple[int, int, int, int, int]  # G's CB1..CB5
    dec: tuple[int, int, int, int]  # G's DCB1..DCB4
    disc: tuple[int, int, int, int, int, int, int]  # D's seven 3x3 convolutions
    disc_fc: int  # D's 1x1 "FC_1024"
    cls: tuple[int, int, int, int, int]  # V's five blocks
    cls_fc: int  # V's FC_128


VARIANTS: dict[str, Shape] = {
    "full": Shape(
        enc=(64, 128, 256, 512, 512),
        dec=(256, 128, 64, 32),
        disc=(64, 64, 128, 128, 256, 512, 512),
        disc_fc=1024,
        cls=(64, 128, 256, 512, 512),
        cls_fc=128,
    ),
    "lite": Shape(
        enc=(8, 24, 48, 96, 128),
        dec=(64, 48, 24, 12),
        # D and V are only used in training and are cheap beside G at 128 px: wide enough to see blur
        # (the earlier 0.10M-parameter D sat at chance; issue 24).
        disc=(16, 32, 32, 64, 64, 128, 128),
        disc_fc=256,
        cls=(12, 24, 48, 96, 192),
        cls_fc=64,
    ),
}
DISC_STRIDES = (1, 2, 1, 2, 1, 1, 2)


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return x * 2.0 - 1.0


def conv_bn_relu(cin: int, cout: int, k: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def vgg_blocks(widths: tuple[int, ...], cin: int = 3) -> nn.ModuleList:
    blocks, c = [], cin
    for depth, w in zip(VGG_DEPTHS, widths):
        layers = []
        for _ in range(depth):
            layers.append(conv_bn_relu(c, w))
            c = w
        blocks.append(nn.Sequential(*layers))
    return nn.ModuleList(blocks)


class DecoderBlock(nn.Module):
    """DCB: bilinear x2 (in front), concatenation with the encoder's skip, 1x1 then 3x3 conv (BN, ReLU)."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.reduce = conv_bn_relu(cin + cskip, cout, k=1)
        self.conv = conv_bn_relu(cout, cout)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(self.reduce(torch.cat([x, skip], dim=1)))


class Generator(nn.Module):
    """G: image in [0, 1] -> mask in [0, 1] (1 = in focus), same size; H and W multiples of 16."""

    def __init__(self, shape: Shape):
        super().__init__()
        self.encoder = vgg_blocks(shape.enc)
        skips = list(reversed(shape.enc[:-1]))  # CB4, CB3, CB2, CB1
        dec, c = [], shape.enc[-1]
        for cs, t in zip(skips, shape.dec):
            dec.append(DecoderBlock(c, cs, t))
            c = t
        self.decoder = nn.ModuleList(dec)
        self.head = nn.Conv2d(c, 1, 1)

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        x = _normalise(x)
        skips = []
        for i, block in enumerate(self.encoder):
            if i:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        x = skips.pop()
        for block in self.decoder:
            x = block(x, skips.pop())
        out = self.head(x)
        return out if logits else torch.sigmoid(out)


class Discriminator(nn.Module):
    """D_c or D_b: image in [0, 1] -> probability of being a real full-clear (full-blurred) image, shape (B,)."""

    def __init__(self, shape: Shape):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        layers: list[nn.Module] = []
        c = 3
        for w, s in zip(shape.disc, DISC_STRIDES):
            layers += [sn(nn.Conv2d(c, w, 3, stride=s, padding=1)), nn.LeakyReLU(0.2, inplace=True)]
            c = w
        self.features = nn.Sequential(*layers)
        self.fc = nn.Sequential(
            sn(nn.Conv2d(c, shape.disc_fc, 1)), nn.LeakyReLU(0.2, inplace=True), sn(nn.Conv2d(shape.disc_fc, 1, 1))
        )

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        h = self.features(_normalise(x))
        out = self.fc(F.adaptive_avg_pool2d(h, 1)).flatten()
        return out if logits else torch.sigmoid(out)


class Classifier(nn.Module):
    """V: image in [0, 1] -> (feature (B, C5) for L_B, class logits (B, 3))."""

    def __init__(self, shape: Shape):
        super().__init__()
        self.blocks = vgg_blocks(shape.cls)
        self.fc = nn.Sequential(
            nn.Linear(shape.cls[-1], shape.cls_fc), nn.ReLU(inplace=True), nn.Linear(shape.cls_fc, len(CLASSES))
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _normalise(x)
        for block in self.blocks:
            x = F.max_pool2d(block(x), 2)
        feature = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return feature, self.fc(feature)


def shape_of(variant: str) -> Shape:
    try:
        return VARIANTS[variant]
    except KeyError:
        raise ValueError(f"unknown selfgen variant {variant!r} (variants: {', '.join(VARIANTS)})") from None


def build_generator(variant: str) -> Generator:
    return Generator(shape_of(variant))


def build_discriminator(variant: str) -> Discriminator:
    return Discriminator(shape_of(variant))


def build_classifier(variant: str) -> Classifier:
    return Classifier(shape_of(variant))


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def freeze(module: nn.Module) -> nn.Module:
    """Eval mode (BN statistics fixed) and no parameter gradients: a frozen V still passes gradients to its input."""
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module
