import numpy as np
import pytest
from dbdbench_baselines.plugin import method_classes

from dbdbench.methods import check_prediction

IDS = ["gradient", "laplacian", "dct", "hifst", "lbp", "svd"]


def test_registered_ids():
    assert [c.id for c in method_classes()] == IDS
    for c in method_classes():
        assert c.kind == "handcrafted" and c.paper and c.name and c.description


def test_entry_point_registered():
    from importlib.metadata import entry_points

    eps = [e for e in entry_points(group="dbdbench") if e.name == "baselines"]
    assert eps and eps[0].value == "dbdbench_baselines.plugin"


@pytest.mark.parametrize("cls", method_classes(), ids=IDS)
def test_contract_and_polarity(cls, synthetic_pair):
    img, _gt = synthetic_pair
    pred = cls().predict(img)
    pred = check_prediction(cls.id, "synthetic", img, pred)
    assert pred.shape == img.shape[:2] and pred.dtype == np.float32
    # polarity: the sharp half must score clearly higher (ignore a band at the seam)
    sharp = pred[:, 8:48].mean()
    blur = pred[:, 80:120].mean()
    assert sharp > blur + 0.2, (cls.id, sharp, blur)


@pytest.mark.parametrize("cls", method_classes(), ids=IDS)
def test_constant_and_odd_inputs(cls):
    flat = np.full((40, 33, 3), 128, np.uint8)
    pred = check_prediction(cls.id, "flat", flat, cls().predict(flat))
    assert np.isfinite(pred).all()
    tiny = np.random.default_rng(1).integers(0, 255, (9, 13, 3), dtype=np.uint8)
    check_prediction(cls.id, "tiny", tiny, cls().predict(tiny))


def test_string_options_are_coerced():
    from dbdbench_baselines.hifst import HiFST
    from dbdbench_baselines.lbp import LBPSharpness

    assert HiFST(stride="2").config["stride"] == 2
    m = LBPSharpness(scales="11,15", refine="false")
    assert m.config["scales"] == (11, 15) and m.config["refine"] is False


def test_lbp_refine_runs(synthetic_pair):
    from dbdbench_baselines.lbp import LBPSharpness

    img, _ = synthetic_pair
    pred = LBPSharpness(refine=True).predict(img)
    assert pred.shape == img.shape[:2]
    assert pred[:, 8:48].mean() > pred[:, 80:120].mean() + 0.2


@pytest.mark.parametrize("stride", [2, 3])
def test_svd_grid_sits_on_its_pixels(synthetic_pair, stride):
    """svd with stride s evaluates pixels 0, s, 2s, ...: there it equals the full (stride 1) map, up to the
    global min-max normalisation of each."""
    from dbdbench_baselines.svd import svd_map

    img, _ = synthetic_pair
    full = svd_map(img, stride=1)[::stride, ::stride].astype(np.float64)
    coarse = svd_map(img, stride=stride)[::stride, ::stride].astype(np.float64)
    norm = lambda x: (x - x.min()) / (x.max() - x.min())
    np.testing.assert_allclose(norm(coarse), norm(full), atol=1e-5)
