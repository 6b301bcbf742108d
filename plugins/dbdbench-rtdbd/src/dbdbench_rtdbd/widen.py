"""Grow a trained ``rtdbd`` network into a wider variant that computes the same maps (Net2Net widening).

``python -m dbdbench_rtdbd.widen IN.safetensors OUT.safetensors --to lite [--from lite-plain] [--noise 0.01]``

Why: on a 2-core CPU a wider network trained from scratch needs many hours to catch up with the narrow one
it should improve on. Widening keeps everything the narrow network learned: each new channel copies an
existing one (its convolution filter and BatchNorm), and every layer that reads the copied channel divides
its weights by the number of copies, so the sum it computes, and hence every output, is unchanged (Chen,
Goodfellow & Shlens, "Net2Net", ICLR 2016). Training then continues from a network that is as good as the
old one, with room to grow. A little noise on the copies breaks their symmetry; without it they would
receive identical gradients and stay copies for ever.

The mapping is per layer group: the two convolutions of one encoder module share a channel mapping, as do
a decoder module's up-convolution and merge convolution (they have the same width), and concatenations
(the fuse input, the decoder shortcuts) concatenate their parts' mappings. A global-context branch
(``lite`` from ``lite-plain``) can be added: it starts with a zero output, so the maps are again unchanged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from dbdbench.errors import DbdbenchError

from .model import VARIANTS, RTDBDNet, Shape


@dataclass(frozen=True)
class ChannelMap:
    """For each new channel, the old channel it copies (``source``) and 1 / (copies of that old channel)."""

    source: torch.Tensor
    scale: torch.Tensor
    n_old: int

    @classmethod
    def identity(cls, n: int) -> ChannelMap:
        return cls(torch.arange(n), torch.ones(n), n)

    @classmethod
    def grow(cls, n_old: int, n_new: int, generator: torch.Generator) -> ChannelMap:
        """The first ``n_old`` channels stay where they are; the extra ones copy random old channels."""
        extra = torch.randint(0, n_old, (n_new - n_old,), generator=generator)
        source = torch.cat([torch.arange(n_old), extra])
        copies = torch.bincount(source, minlength=n_old).to(torch.float32)
        return cls(source, 1.0 / copies[source], n_old)

    def then(self, other: ChannelMap) -> ChannelMap:
        """The mapping of ``torch.cat([a, b], dim=1)`` from the mappings of ``a`` (self) and ``b``."""
        return ChannelMap(
            torch.cat([self.source, other.source + self.n_old]),
            torch.cat([self.scale, other.scale]),
            self.n_old + other.n_old,
        )


def check_widenable(old: Shape, new: Shape) -> None:
    """Widening needs the same depth, the same inputs, and no width that shrinks; a context branch can be
    added but not dropped, and one already trained is kept only where its widths stay the same."""
    if old.context and (new.context != old.context or new.fuse != old.fuse):
        raise DbdbenchError(
            f"widen: the trained context branch (width {old.context}, fuse {old.fuse}) must keep its widths"
        )
    pairs = [("enc", old.enc, new.enc), ("dec", old.dec, new.dec), ("fuse", (old.fuse,), (new.fuse,))]
    if (old.grad is None) != (new.grad is None):
        raise DbdbenchError("widen: both variants must have the gradient encoder, or neither")
    if old.grad is not None and new.grad is not None:
        pairs.append(("grad", old.grad, new.grad))
    for name, a, b in pairs:
        if len(a) != len(b) or any(y < x for x, y in zip(a, b)):
            raise DbdbenchError(f"widen: {name} widths {b} cannot grow from {a} (same depth, no width smaller)")


@torch.no_grad()
def _copy_conv_bn(
    old: nn.Sequential, new: nn.Sequential, inputs: ChannelMap, outputs: ChannelMap, noise: float, gen: torch.Generator
) -> None:
    """Copy a (conv, BatchNorm, ReLU) block: rows follow ``outputs``, input columns follow ``inputs``."""
    conv, bn = old[0], old[1]
    transposed = isinstance(conv, nn.ConvTranspose2d)
    w = conv.weight.transpose(0, 1) if transposed else conv.weight  # as (out, in, kh, kw)
    w = w[outputs.source][:, inputs.source] * inputs.scale.view(1, -1, 1, 1)
    copies = slice(outputs.n_old, None)
    if noise and w[copies].numel():
        w[copies] += noise * w.std() * torch.randn(w[copies].shape, generator=gen)
    new[0].weight.copy_(w.transpose(0, 1) if transposed else w)
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(new[1], name).copy_(getattr(bn, name)[outputs.source])
    new[1].num_batches_tracked.copy_(bn.num_batches_tracked)


def widen(old: RTDBDNet, shape: Shape, noise: float = 0.01, seed: int = 0) -> RTDBDNet:
    """A network of ``shape`` computing what ``old`` computes (exactly when ``noise`` is 0; eval mode)."""
    check_widenable(old.shape, shape)
    gen = torch.Generator().manual_seed(seed)
    new = RTDBDNet(shape)

    def encoder(old_enc, new_enc, n_in: int) -> list[ChannelMap]:
        maps, inputs = [], ChannelMap.identity(n_in)
        for old_mod, new_mod in zip(old_enc.mods, new_enc.mods):
            outputs = ChannelMap.grow(old_mod.body[0][0].out_channels, new_mod.body[0][0].out_channels, gen)
            _copy_conv_bn(old_mod.body[0], new_mod.body[0], inputs, outputs, noise, gen)
            _copy_conv_bn(old_mod.body[1], new_mod.body[1], outputs, outputs, noise, gen)
            maps.append(outputs)
            inputs = outputs
        return maps

    enc = encoder(old.image_encoder, new.image_encoder, 3)
    deep = enc[-1]
    if old.grad_encoder is not None:
        deep = deep.then(encoder(old.grad_encoder, new.grad_encoder, 2)[-1])
    y = ChannelMap.grow(old.shape.fuse, shape.fuse, gen)
    _copy_conv_bn(old.fuse, new.fuse, deep, y, noise, gen)
    if old.context is not None and new.context is not None:  # same widths (checked): copy as it is
        new.context.load_state_dict(old.context.state_dict())
    for old_mod, new_mod, skip in zip(old.decoder, new.decoder, reversed(enc[:-1])):
        outputs = ChannelMap.grow(old_mod.up[0].out_channels, new_mod.up[0].out_channels, gen)
        _copy_conv_bn(old_mod.up, new_mod.up, y, outputs, noise, gen)
        _copy_conv_bn(old_mod.merge, new_mod.merge, outputs.then(skip), outputs, noise, gen)
        y = outputs
    with torch.no_grad():
        new.head.weight.copy_(old.head.weight[:, y.source] * y.scale.view(1, -1, 1, 1))
        new.head.bias.copy_(old.head.bias)
    return new


def main(argv: Sequence[str] | None = None) -> int:
    from dbdbench_torch.weights import load_weights, save_weights

    from .model import build

    parser = argparse.ArgumentParser(prog="python -m dbdbench_rtdbd.widen", description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, help="trained weights of the narrow variant")
    parser.add_argument("out", type=Path, help="where to write the widened weights")
    parser.add_argument("--to", required=True, choices=sorted(VARIANTS), help="the wider variant")
    parser.add_argument(
        "--from", dest="source", default="lite-plain", choices=sorted(VARIANTS), help="default: lite-plain"
    )
    parser.add_argument("--noise", type=float, default=0.01, help="noise on copied filters, x their std")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        old = build(args.source)
        meta = load_weights(old, args.weights)
        new = widen(old.eval(), VARIANTS[args.to], noise=args.noise, seed=args.seed)
        from dbdbench_torch.weights import weights_digest

        record = {
            "widened_from": args.source,
            "widened_from_sha256": weights_digest(args.weights),
            "variant": args.to,
            "noise": str(args.noise),
            "seed": str(args.seed),
        }
        digest = save_weights(new, args.out, {**meta, **record})
    except DbdbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {args.source} -> {args.to}, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
