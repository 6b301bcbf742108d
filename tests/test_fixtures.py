"""The derived fixtures (tests/fixtures/) stand in for the shared research data: same scores, kept current."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from dbdbench.api import list_samples, open_dataset, score_maps
from dbdbench.datasets.real import te1_stems
from dbdbench.io import read_gray
from dbdbench.protocols import PROTOCOLS, get_protocol


def _scores(data, dataset, maps, suffix="", split=None, protocols=tuple(PROTOCOLS)):
    ds = open_dataset(dataset, root=data / dataset, split=split)
    listing = list_samples(ds)
    return {
        p: score_maps(maps, ds, listing, get_protocol(p), map_suffix=suffix, workers=1)[0].metrics for p in protocols
    }


def test_standin_scores_exactly_like_the_shared_data(real_shared, derived, tmp_path_factory):
    """Every protocol gives the same numbers on the stand-in (same counts, other pixel order) as on the real
    data; without the real data, the stand-in gives the numbers recorded when the fixtures were made."""
    standin = derived.build_standin(tmp_path_factory.mktemp("standin") / "data")
    cases = [
        ("cuhk", "cuhk/results/hifst", "_HiFSTBlurMap", "te1", ("dbd", "sod", "ddffnet", "hifst", "dd")),
        ("dut", "results/aenet/dut", "", None, tuple(PROTOCOLS)),
        ("xu100", "results/aenet/xu100", "", None, tuple(PROTOCOLS)),
    ]
    for dataset, maps, suffix, split, protocols in cases:
        ours = _scores(standin, dataset, standin / maps, suffix, split, protocols)
        if real_shared is not None:  # equal up to the order of float sums over pixels
            real = _scores(real_shared, dataset, real_shared / maps, suffix, split, protocols)
            for p in protocols:
                assert ours[p] == pytest.approx(real[p], abs=1e-12, rel=0), (dataset, p)
        assert all(0 <= v <= 1 for m in ours.values() for v in m.values())
    if real_shared is None:  # D-DFFNet's HiFST row on CUHK-TE-1, from counts alone
        m = _scores(standin, "cuhk", standin / "cuhk/results/hifst", "_HiFSTBlurMap", "te1", ("ddffnet",))["ddffnet"]
        assert (round(m["f_fixed"], 3), round(m["mae"], 3)) == (0.803, 0.223)


def test_committed_counts_are_current(real_shared, derived):
    """With the shared data: the committed counts are those of today's files. Without: they are complete."""
    arrays, facts = derived.load()
    cuhk = facts["cuhk"]
    assert len(cuhk["stems"]) == 1000 and arrays["cuhk_hist"].shape == (1000, 2, 256)
    assert (arrays["cuhk_hist"].sum(axis=(1, 2)) == arrays["cuhk_shapes"].prod(axis=1)).all()
    assert hashlib.sha256(cuhk["te1_txt"].encode()).hexdigest() == cuhk["te1_sha256"]
    assert cuhk["te1_txt"].split() == te1_stems()
    if real_shared is None:
        return
    rng = np.random.default_rng(0)
    for i in rng.choice(len(cuhk["stems"]), 25, replace=False):
        stem = cuhk["stems"][i]
        gt = read_gray(real_shared / "cuhk" / "gt" / f"{stem}.png")
        m = read_gray(real_shared / "cuhk" / "results" / "hifst" / f"{stem}_HiFSTBlurMap.png")
        assert np.array_equal(arrays["cuhk_hist"][i, 0], np.bincount(m[gt == 0], minlength=256)), stem
        assert np.array_equal(arrays["cuhk_hist"][i, 1], np.bincount(m[gt == 255], minlength=256)), stem
    assert sorted(p.stem for p in (real_shared / "cuhk" / "gt").glob("*.png")) == cuhk["stems"]
    assert (real_shared / "cuhk" / "splits" / "te1.txt").read_text() == cuhk["te1_txt"]


@pytest.mark.parametrize("dataset", ["dut", "xu100"])
def test_zhao_lab_counts_cover_every_pixel(derived, dataset):
    arrays, facts = derived.load()
    t = arrays[f"{dataset}_aenet"]
    for i, f in enumerate(facts["zhao"][dataset]["files"]):
        assert t[t[:, 0] == i][:, 3].sum() == f["shape"][0] * f["shape"][1]
