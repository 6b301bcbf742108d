"""The discriminator warm-up and seam-matched reals (issue 24; not in the paper, off by default)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch

from dbdbench.api import open_dataset
from dbdbench.errors import DbdbenchError
from dbdbench.training import TrainRequest, run_training


def _request(tiny, out, steps, resume=False, **options):
    ds = open_dataset("synth", split="train", options=tiny["dataset_options"])
    opts = dict(tiny["options"], lb="false", **{k: str(v) for k, v in options.items()})
    return TrainRequest(
        method_id="selfgen",
        dataset=ds,
        out=Path(out),
        options=opts,
        steps=steps,
        batch_size=2,
        device="cpu",
        seed=0,
        resume=resume,
    )


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _tensors(path):
    from safetensors.torch import load_file

    return load_file(str(path))


def test_random_masks_are_binary_blobs_of_varied_cover_and_reproducible():
    from dbdbench_selfgen.losses import random_masks

    a = random_masks(16, 64, torch.Generator().manual_seed(3))
    b = random_masks(16, 64, torch.Generator().manual_seed(3))
    assert a.shape == (16, 1, 64, 64) and torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    cover = a.mean(dim=(1, 2, 3))
    assert float(cover.min()) > 0.1 and float(cover.max()) < 0.9 and float(cover.std()) > 0.05
    # blobs, not salt and pepper: few pixels differ from their right-hand neighbour
    assert float((a[..., 1:] != a[..., :-1]).float().mean()) < 0.1
    assert not torch.equal(a, random_masks(16, 64, torch.Generator().manual_seed(4)))


def test_pool_composites_share_the_base_and_the_seam():
    from dbdbench_selfgen.losses import pool_composites

    g = torch.Generator().manual_seed(0)
    base, same, other = (torch.rand(2, 3, 8, 8, generator=g) for _ in range(3))
    mask = torch.zeros(2, 1, 8, 8)
    mask[..., :4] = 1.0
    real, fake = pool_composites(mask, base, same, other)
    assert torch.equal(real[..., 4:], base[..., 4:]) and torch.equal(fake[..., 4:], base[..., 4:])
    assert torch.equal(real[..., :4], same[..., :4]) and torch.equal(fake[..., :4], other[..., :4])
    soft = torch.full_like(mask, 0.25)
    real, _ = pool_composites(mask, base, same, other, soft=soft)
    assert torch.allclose(real, 0.25 * same + 0.75 * base)


def test_warmup_trains_only_the_discriminators_then_g_and_resumes_exactly(tiny, tmp_path, monkeypatch):
    from dbdbench_selfgen import train
    from dbdbench_selfgen.model import build_generator

    orders = []
    original_step = train.AdversarialTask.train_step

    def spy(self, batch, step):
        stats = original_step(self, batch, step)
        orders.append(list(stats))
        return stats

    monkeypatch.setattr(train.AdversarialTask, "train_step", spy)

    opts = {"d_warmup": 2, "matched_reals": "true", "feather": 1.0, "ema": 0.0}
    warm = tmp_path / "warm"
    run_training(_request(tiny, warm, steps=2, **opts))
    torch.manual_seed(0)
    ck = torch.load(warm / "checkpoints" / "last.pt", weights_only=True)
    assert ck["optimizers"]["generator"]["state"] == {}  # G never stepped in the warm-up
    assert ck["optimizers"]["d_clear"]["state"] and ck["optimizers"]["d_blurred"]["state"]
    assert set(_tensors(warm / "weights.safetensors")) == set(build_generator("lite").state_dict())
    rows = _rows(warm / "loss.csv")
    assert all(math.isnan(float(r["g_adv_c"])) and math.isnan(float(r["g_total"])) for r in rows)
    assert all(float(r["d_c"]) > 0 and float(r["d_b"]) > 0 for r in rows)

    # two more steps after the warm-up, resumed, equal the same four steps in one go
    run_training(_request(tiny, warm, steps=4, resume=True, **opts))
    straight = tmp_path / "straight"
    run_training(_request(tiny, straight, steps=4, **opts))
    a, b = _tensors(warm / "weights.safetensors"), _tensors(straight / "weights.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = _rows(warm / "loss.csv")
    assert [r["step"] for r in rows] == ["1", "2", "3", "4"] and list(rows[0]) == list(rows[-1])
    assert not math.isnan(float(rows[-1]["g_adv_c"]))
    ck = torch.load(warm / "checkpoints" / "last.pt", weights_only=True)
    assert ck["optimizers"]["generator"]["state"]
    # loss.csv takes its header from the first row: warm-up and G steps must log the same columns in one order
    assert all(order == orders[0] for order in orders) and len(orders) == 2 + 2 + 4


def test_matched_reals_paste_a_pool_image_through_the_fakes_mask(tiny, tmp_path, monkeypatch):
    from dbdbench_selfgen import train

    seen = []
    original = train.discriminator_step

    def spy(model, optimizer, real, fake):
        seen.append((real.detach().clone(), fake.detach().clone()))
        return original(model, optimizer, real, fake)

    monkeypatch.setattr(train, "discriminator_step", spy)
    batches = []
    original_load = train.AdversarialTask.load_batch

    def load(self, indices, epoch):
        batch = original_load(self, indices, epoch)
        batches.append(batch)
        return batch

    monkeypatch.setattr(train.AdversarialTask, "load_batch", load)
    run_training(_request(tiny, tmp_path / "matched", steps=1, matched_reals="true"))
    (source, clear, clear2, blurred, blurred2), ((real_c, fake_c), (real_b, fake_b)) = batches[0], seen
    # real - background = m * (pool image - background) and fake - background = m * (T - background) with one
    # mask m (M for D_c, 1 - feathered M for D_b): the real carries the fake's seam, only the content differs
    for real, fake, bg, other in ((real_c, fake_c, clear, clear2), (real_b, fake_b, blurred, blurred2)):
        lhs, rhs = (real - bg) * (source - bg), (fake - bg) * (other - bg)
        assert torch.allclose(lhs, rhs, atol=1e-5) and float(lhs.abs().mean()) > 1e-3
        assert not torch.allclose(real, other)
    seen.clear()
    batches.clear()
    run_training(_request(tiny, tmp_path / "plain", steps=1))
    (_, clear, clear2, blurred, blurred2), ((real_c, _), (real_b, _)) = batches[0], seen
    assert torch.equal(real_c, clear2) and torch.equal(real_b, blurred2)  # the paper: a plain pool image


def test_negative_warmup_is_refused():
    from dbdbench_selfgen.train import resolve

    with pytest.raises(DbdbenchError, match="d_warmup"):
        resolve({"d_warmup": "-1"})
