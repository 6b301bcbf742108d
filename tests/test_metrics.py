"""Metrics against an independent slow reference (one threshold at a time) and against PySODMetrics."""

from __future__ import annotations

import numpy as np
import pytest

from dbdbench.metrics import Evaluator, prepare
from dbdbench.protocols import PROTOCOLS, get_protocol

BETA2 = 0.3


# ---------------------------------------------------------------- the slow reference
# Written from the definitions, sharing no code with dbdbench.metrics: for every threshold,
# binarise the map with a comparison and count pixels directly.


def ref_f(p, r, beta2=BETA2):
    return 0.0 if p == 0 and r == 0 else (1 + beta2) * p * r / (beta2 * p + r)


def ref_counts(pred_bool, gt_bool):
    tp = int(np.logical_and(pred_bool, gt_bool).sum())
    pp = int(pred_bool.sum())
    pos = int(gt_bool.sum())
    p = tp / pp if pp else 0.0
    r = tp / pos if pos else 0.0
    return p, r


def ref_image(
    map_u8_focus, gt_u8_focus, *, positive="focus", gt_thr=127, minmax=False, floor=False, factor=2.0, fixed=0.5
):
    """Reference for one image given 8-bit focus map and 8-bit focus-white GT of equal size."""
    gt = gt_u8_focus.astype(float) > gt_thr
    score = map_u8_focus.astype(float) / 255.0
    if positive == "blur":
        gt = ~gt
        score = (255 - map_u8_focus.astype(float)) / 255.0
    if minmax and score.max() != score.min():
        score = (score - score.min()) / (score.max() - score.min())
    levels = np.floor(score * 255) if floor else np.round(score * 255)
    P, R, F = [], [], []
    for t in range(256):
        p, r = ref_counts(levels >= t, gt)
        P.append(p), R.append(r), F.append(ref_f(p, r))
    mae = float(np.abs(score - gt).mean())
    thr = min(factor * score.mean(), 1.0)
    fa = ref_f(*ref_counts(score >= thr, gt))
    ff = ref_f(*ref_counts(score >= fixed, gt))
    pa, ra = ref_counts(score >= thr, gt)
    pf, rf = ref_counts(score >= fixed, gt)
    return dict(P=np.array(P), R=np.array(R), F=np.array(F), mae=mae, fa=fa, ff=ff, pa=pa, ra=ra, pf=pf, rf=rf)


def ref_dataset(pairs, aggregation="image", **kw):
    per = [ref_image(m, g, **kw) for m, g in pairs]
    P = np.mean([x["P"] for x in per], axis=0)
    R = np.mean([x["R"] for x in per], axis=0)
    if aggregation == "image":
        F = np.mean([x["F"] for x in per], axis=0)
        fa = np.mean([x["fa"] for x in per])
        ff = np.mean([x["ff"] for x in per])
    else:
        F = np.array([ref_f(p, r) for p, r in zip(P, R)])
        fa = ref_f(np.mean([x["pa"] for x in per]), np.mean([x["ra"] for x in per]))
        ff = ref_f(np.mean([x["pf"] for x in per]), np.mean([x["rf"] for x in per]))
    return dict(P=P, R=R, F=F, f_max=F.max(), f_mean=F.mean(), mae=np.mean([x["mae"] for x in per]), fa=fa, ff=ff)


def fast_dataset(pairs, protocol, map_polarity="focus", gt_polarity="focus"):
    ev = Evaluator(protocol)
    for i, (m, g) in enumerate(pairs):
        ev.step(str(i), prepare(m, g, protocol, map_polarity=map_polarity, gt_polarity=gt_polarity))
    return ev.results()


def random_pairs(seed, n=6, shape=(37, 53)):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(n):
        kind = rng.integers(4)
        if kind == 0:
            m = rng.integers(0, 256, shape).astype(np.uint8)
        elif kind == 1:  # few distinct levels: many ties at thresholds
            m = (rng.integers(0, 4, shape) * 85).astype(np.uint8)
        elif kind == 2:  # narrow range: min-max matters
            m = rng.integers(100, 140, shape).astype(np.uint8)
        else:  # correlated with the GT
            m = None
        g = ((rng.random(shape) < rng.uniform(0.1, 0.9)) * 255).astype(np.uint8)
        if m is None:
            m = np.clip(g * 0.6 + rng.normal(60, 40, shape), 0, 255).astype(np.uint8)
        pairs.append((m, g))
    return pairs


EDGE_CASES = {
    "all_background_gt": [(np.arange(64, dtype=np.uint8).reshape(8, 8) * 4, np.zeros((8, 8), np.uint8))],
    "all_foreground_gt": [(np.arange(64, dtype=np.uint8).reshape(8, 8) * 4, np.full((8, 8), 255, np.uint8))],
    "constant_map_mid": [
        (np.full((9, 7), 128, np.uint8), ((np.arange(63) % 3 == 0) * 255).astype(np.uint8).reshape(9, 7))
    ],
    "constant_map_zero": [(np.zeros((9, 7), np.uint8), ((np.arange(63) % 2) * 255).astype(np.uint8).reshape(9, 7))],
    "constant_map_full": [(np.full((9, 7), 255, np.uint8), ((np.arange(63) % 2) * 255).astype(np.uint8).reshape(9, 7))],
    "perfect_map": [(((np.arange(63) % 2) * 255).astype(np.uint8).reshape(9, 7),) * 2],
    "inverted_map": [
        (
            ((np.arange(63) % 2 == 0) * 255).astype(np.uint8).reshape(9, 7),
            ((np.arange(63) % 2) * 255).astype(np.uint8).reshape(9, 7),
        )
    ],
    "single_pixel": [(np.array([[200]], np.uint8), np.array([[255]], np.uint8))],
}


def assert_matches(fast, ref, tol=1e-9):
    m = fast["metrics"]
    np.testing.assert_allclose(fast["curves"]["precision"], ref["P"], atol=tol)
    np.testing.assert_allclose(fast["curves"]["recall"], ref["R"], atol=tol)
    np.testing.assert_allclose(fast["curves"]["f"], ref["F"], atol=tol)
    assert m["f_max"] == pytest.approx(ref["f_max"], abs=tol)
    assert m["f_mean"] == pytest.approx(ref["f_mean"], abs=tol)
    assert m["mae"] == pytest.approx(ref["mae"], abs=tol)
    assert m["f_adaptive"] == pytest.approx(ref["fa"], abs=tol)
    assert m["f_fixed"] == pytest.approx(ref["ff"], abs=tol)


# The generic machinery (histograms, curves, thresholds, aggregation) under each combination of options the
# presets use, on maps at GT resolution. What is specific to a paper's code (sg's 320x320 resize, hifst's
# MATLAB comparison, D-DFFNet's F_score1) is checked against ports of that code in test_protocols.py.
PROTOCOL_KW = {
    "dbd": (("dbd", {}), dict()),
    "sod": (("sod", {}), dict(gt_thr=128, minmax=True, floor=True)),
    "sg-at-gt-size": (("sg", {"resize": "bilinear"}), dict(gt_thr=25.5, factor=1.5)),
    "ddffnet": (("ddffnet", {}), dict(positive="blur")),
    "blur-minmax-curve": (
        ("dbd", {"positive": "blur", "minmax": True, "aggregation": "curve"}),
        dict(positive="blur", minmax=True, aggregation="curve"),
    ),
}


def _protocol(name):
    preset, overrides = PROTOCOL_KW[name][0]
    return get_protocol(preset, **overrides)


@pytest.mark.parametrize("protocol", list(PROTOCOL_KW))
@pytest.mark.parametrize("seed", range(4))
def test_random_inputs_match_reference(protocol, seed):
    pairs = random_pairs(seed)
    kw = dict(PROTOCOL_KW[protocol][1])
    aggregation = kw.pop("aggregation", "image")
    assert_matches(fast_dataset(pairs, _protocol(protocol)), ref_dataset(pairs, aggregation=aggregation, **kw))


@pytest.mark.parametrize("protocol", list(PROTOCOL_KW))
@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_cases_match_reference(protocol, case):
    pairs = EDGE_CASES[case]
    kw = dict(PROTOCOL_KW[protocol][1])
    aggregation = kw.pop("aggregation", "image")
    assert_matches(fast_dataset(pairs, _protocol(protocol)), ref_dataset(pairs, aggregation=aggregation, **kw))


def test_known_values_by_hand():
    # 2x2 map, one in-focus pixel predicted at 255, everything else 0.
    m = np.array([[255, 0], [0, 0]], np.uint8)
    g = np.array([[255, 255], [0, 0]], np.uint8)
    r = fast_dataset([(m, g)], get_protocol("dbd"))
    # threshold 0: all predicted -> P=0.5, R=1; thresholds 1..255: P=1, R=0.5.
    assert r["curves"]["precision"][0] == 0.5 and r["curves"]["recall"][0] == 1.0
    assert r["curves"]["precision"][1] == 1.0 and r["curves"]["recall"][1] == 0.5
    f_hi = 1.3 * 0.5 / (0.3 + 0.5)
    assert r["metrics"]["f_max"] == pytest.approx(f_hi)
    assert r["metrics"]["mae"] == pytest.approx(0.25)


def test_polarity_inversion_is_consistent():
    pairs = random_pairs(7)
    focus = fast_dataset(pairs, get_protocol("dbd"))
    flipped = [(255 - m, 255 - g) for m, g in pairs]
    both_blur = fast_dataset(flipped, get_protocol("dbd"), map_polarity="blur", gt_polarity="blur")
    assert focus["metrics"] == both_blur["metrics"]


def test_float_and_8bit_paths_agree():
    """A 16-bit-style float map equal to the 8-bit map gives identical metrics (fast path vs continuous path)."""
    pairs = random_pairs(3)
    p = get_protocol("dbd")
    a = fast_dataset(pairs, p)
    b = fast_dataset([(m.astype(np.float64), g) for m, g in pairs], p)
    for k in a["metrics"]:
        assert a["metrics"][k] == pytest.approx(b["metrics"][k], abs=1e-12)


def test_resize_to_gt_resolution():
    g = np.zeros((40, 60), np.uint8)
    g[:, :30] = 255
    m_small = np.zeros((20, 30), np.uint8)
    m_small[:, :15] = 255
    r = fast_dataset([(m_small, g)], get_protocol("dbd"))
    assert r["metrics"]["f_max"] > 0.99
    with pytest.raises(Exception, match="resize rule is 'none'"):
        fast_dataset([(m_small, g)], get_protocol("dbd", resize="none"))


# ---------------------------------------------------------------- PySODMetrics, exactly


@pytest.mark.parametrize("seed", range(6))
def test_sod_protocol_equals_pysodmetrics(seed):
    py_sod_metrics = pytest.importorskip("py_sod_metrics")
    rng = np.random.default_rng(100 + seed)
    fm, mae = py_sod_metrics.Fmeasure(), py_sod_metrics.MAE()
    pairs = random_pairs(seed, n=5, shape=(rng.integers(5, 80), rng.integers(5, 80)))
    pairs += EDGE_CASES["constant_map_mid"] + EDGE_CASES["all_background_gt"] + EDGE_CASES["all_foreground_gt"]
    for m, g in pairs:
        fm.step(pred=m, gt=g)
        mae.step(pred=m, gt=g)
    theirs = fm.get_results()
    ours = fast_dataset(pairs, get_protocol("sod"))
    curve = theirs["fm"]["curve"][::-1]  # PySODMetrics orders thresholds 255 -> 0
    np.testing.assert_allclose(ours["curves"]["f"], curve, atol=1e-12)
    np.testing.assert_allclose(ours["curves"]["precision"], theirs["pr"]["p"][::-1], atol=1e-12)
    np.testing.assert_allclose(ours["curves"]["recall"], theirs["pr"]["r"][::-1], atol=1e-12)
    assert ours["metrics"]["f_max"] == pytest.approx(curve.max(), abs=1e-6)
    assert ours["metrics"]["f_mean"] == pytest.approx(curve.mean(), abs=1e-6)
    assert ours["metrics"]["f_adaptive"] == pytest.approx(theirs["fm"]["adp"], abs=1e-6)
    assert ours["metrics"]["mae"] == pytest.approx(mae.get_results()["mae"], abs=1e-6)


def test_protocol_overrides_are_recorded():
    p = get_protocol("dbd", aggregation="curve", beta2=1.0)
    assert p.name == "dbd+custom" and p.aggregation == "curve" and p.beta2 == 1.0
    assert get_protocol("dbd", aggregation="image") is PROTOCOLS["dbd"]
    with pytest.raises(Exception, match="aggregation"):
        get_protocol("dbd", aggregation="median")
    with pytest.raises(Exception, match="unknown protocol"):
        get_protocol("nope")


def test_coc_bands_pool_pixels_by_band():
    from dbdbench.metrics import CocBands

    coc = np.array([[0.5, 1.5, 2.0, 4.0, 9.0, 20.0]])
    gt = ((coc <= 1.5) * 255).astype(np.uint8)
    m = np.array([[255, 255, 255, 0, 0, 0]], np.uint8)
    p = get_protocol("dbd")
    bands = CocBands(p)
    bands.step(prepare(m, gt, p), coc)
    res = bands.results()
    assert [b["pixels"] for b in res] == [2, 1, 1, 2]
    assert [b["predicted_in_focus"] for b in res] == [1.0, 1.0, 0.0, 0.0]
    assert [b["accuracy"] for b in res] == [1.0, 0.0, 1.0, 1.0]
