"""Net2Net widening: the wider network computes what the narrow one did, and only growth is accepted."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from dbdbench_rtdbd.model import VARIANTS, build, count_parameters
from dbdbench_rtdbd.widen import ChannelMap, main, widen
from dbdbench_torch.weights import load_weights, save_weights

from dbdbench.errors import DbdbenchError


def _trained_like(variant: str) -> torch.nn.Module:
    """A network with non-trivial BatchNorm statistics, as after training (fresh BN is the identity)."""
    torch.manual_seed(1)
    net = build(variant)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    return net.eval()


def test_channel_map_copies_and_divides_by_the_number_of_copies():
    m = ChannelMap.grow(3, 7, torch.Generator().manual_seed(0))
    assert m.source[:3].tolist() == [0, 1, 2] and len(m.source) == 7
    for old in range(3):
        copies = int((m.source == old).sum())
        assert torch.allclose(m.scale[m.source == old], torch.full((copies,), 1.0 / copies))


@pytest.mark.parametrize("source", ["lite-plain", "lite-nograd"])
@pytest.mark.parametrize("wider", ["lite-wide", "lite-fine", "lite"])
def test_widened_network_computes_the_same_maps(source, wider):
    old = _trained_like(source)
    target = VARIANTS[wider]
    if old.grad_encoder is None:
        target = replace(target, grad=None)
    new = widen(old, target, noise=0.0).eval()
    assert count_parameters(new) > count_parameters(old)
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        assert torch.allclose(old.logits(x), new.logits(x), atol=1e-4)


def test_noise_breaks_the_copies_symmetry_but_barely_moves_the_output():
    old = _trained_like("lite-plain")
    new = widen(old, VARIANTS["lite-wide"], noise=0.01).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        diff = (old(x) - new(x)).abs().max()
    assert 0 < float(diff) < 0.05


def test_only_growth_is_accepted():
    with pytest.raises(DbdbenchError, match="cannot grow"):
        widen(build("lite-wide"), VARIANTS["lite-plain"])
    with pytest.raises(DbdbenchError, match="gradient encoder"):
        widen(build("lite-plain"), VARIANTS["lite-nograd"])
    with pytest.raises(DbdbenchError, match="context branch"):
        widen(build("lite"), VARIANTS["lite-plain"])


def test_a_trained_context_branch_is_kept():
    old = _trained_like("lite")
    torch.nn.init.normal_(old.context.expand.weight, std=0.1)
    new = widen(old, VARIANTS["lite"], noise=0.0).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(old.logits(x), new.logits(x), atol=1e-4)


def test_the_command_writes_loadable_weights_with_their_origin(tmp_path):
    save_weights(_trained_like("lite-plain"), tmp_path / "narrow.safetensors")
    assert main([str(tmp_path / "narrow.safetensors"), str(tmp_path / "wide.safetensors"), "--to", "lite-wide"]) == 0
    meta = load_weights(build("lite-wide"), tmp_path / "wide.safetensors")
    assert meta["widened_from"] == "lite-plain" and meta["variant"] == "lite-wide"
    assert main([str(tmp_path / "wide.safetensors"), str(tmp_path / "x.safetensors"), "--to", "lite-plain"]) == 2
