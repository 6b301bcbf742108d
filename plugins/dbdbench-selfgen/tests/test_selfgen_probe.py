"""benchmarks/probe_selfgen_discriminators.py: each case builds the composite it names (no data needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[3]


def _probe_module():
    spec = importlib.util.spec_from_file_location("probe", REPO / "benchmarks" / "probe_selfgen_discriminators.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _StubPools:
    """Fixed tensors instead of images: T, its true mask, I_c, I_c', I_b, I_b'."""

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.t, self.ic, self.ic2, self.ib, self.ib2 = (torch.rand(4, 3, 16, 16, generator=g) for _ in range(5))
        self.mask = (torch.rand(4, 1, 16, 16, generator=g) > 0.5).float()

    def batch(self, crop):
        return self.t, self.mask, self.ic, self.ic2, self.ib, self.ib2


def test_each_case_builds_the_composite_it_names():
    probe, pools = _probe_module(), _StubPools()
    g_mask = torch.full((4, 1, 16, 16), 0.25)

    def generator(x):
        return g_mask

    m, t = pools.mask, pools.t
    expected = {
        "clear-trivial": (pools.ic2, t),
        "blurred-trivial": (pools.ib2, t),
        "clear-oracle": (pools.ic2, m * t + (1 - m) * pools.ic),
        "blurred-oracle": (pools.ib2, (1 - m) * t + m * pools.ib),
        "clear-G": (pools.ic2, 0.25 * t + 0.75 * pools.ic),
        "blurred-G": (pools.ib2, 0.75 * t + 0.25 * pools.ib),
    }
    assert set(expected) == set(probe.CASES)
    for case, (real, fake) in expected.items():
        got_real, got_fake = probe.composite_pair(case, pools, generator, crop=16)
        assert torch.equal(got_real, real), case
        assert torch.allclose(got_fake, fake), case
