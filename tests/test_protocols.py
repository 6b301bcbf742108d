"""Each paper-named protocol against a small, independent port of its source's evaluation code.

The ports below are written from the sources (shangcai1/SG ``eval.py``, isalirezag/HiFST
``Evaluation/PRDataComputation.m``, yuxinjin-whu/D-DFFNet ``test1.py`` and ``utils.F_score1``), one pixel
and one threshold at a time, sharing no code with dbdbench. Inputs are chosen to hit what used to go
wrong: maps whose size differs from the GT, and maps that do not span 0..255 (so min-max and
quantisation matter).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dbdbench.errors import DbdbenchError
from dbdbench.metric_table import METRICS
from dbdbench.protocols import PROTOCOLS, get_protocol
from dbdbench.scoring import ScoreItem, score_items

# ---------------------------------------------------------------- test data


def smooth_map(rng, shape, lo, hi):
    """An 8-bit map with structure (blurred noise) whose values span exactly lo..hi."""
    from scipy import ndimage

    x = ndimage.gaussian_filter(rng.random(shape), 3)
    x = (x - x.min()) / (x.max() - x.min())
    return np.rint(lo + x * (hi - lo)).astype(np.uint8)


def blob_gt(rng, shape, soft=False):
    """Focus-white GT: a random ellipse in focus; ``soft`` gives grey edges as resized releases have."""
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
    r = ((yy - cy) / (0.3 * h)) ** 2 + ((xx - cx) / (0.3 * w)) ** 2
    if soft:
        return np.clip((1.5 - r) * 255, 0, 255).astype(np.uint8)
    return ((r < 1) * 255).astype(np.uint8)


def write(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


def score_files(tmp_path, pairs, protocol, *, gt_polarity="focus", skip_bad=False):
    items = []
    for i, (m, g) in enumerate(pairs):
        items.append(
            ScoreItem(f"im{i}", write(tmp_path / "maps" / f"im{i}.png", m), write(tmp_path / "gt" / f"im{i}.png", g))
        )
    evaluator, skipped = score_items(items, protocol, gt_polarity=gt_polarity, skip_bad=skip_bad, workers=1)
    return evaluator.results(), skipped, items


def f_measure(p, r, beta2=0.3):
    return 0.0 if p == 0 and r == 0 else (1 + beta2) * p * r / (beta2 * p + r)


# ---------------------------------------------------------------- SG eval.py


def sg_port(map_path, gt_path):
    """eval1() of shangcai1/SG eval.py for one image, pixel by pixel. Returns (mae, F)."""
    mask = np.array(Image.open(map_path).resize((320, 320))).astype(float) / 255.0
    w, h = mask.shape
    mean = min(np.mean(mask) * 1.5, 1)
    pred = np.zeros((w, h))
    for i in range(w):
        for j in range(h):
            pred[i, j] = 1.0 if mask[i, j] >= mean else 0.0
    gt = np.array(Image.open(gt_path)).astype(float) / 255.0
    for i in range(w):
        for j in range(h):
            gt[i, j] = 1.0 if gt[i, j] > 0.1 else 0.0
    mae = np.mean(np.abs(gt - mask))
    tp = sum(1 for i in range(w) for j in range(h) if pred[i, j] == 1 and gt[i, j] == 1)
    predicted, positive = pred.sum(), gt.sum()
    precision = tp / predicted if predicted else 0.0  # sklearn: 0 when nothing is predicted
    recall = tp / positive if positive else 0.0  # sklearn: 0 when the GT has no positive
    return mae, f_measure(precision, recall)


def test_sg_equals_port_of_eval_py_on_maps_not_320(tmp_path):
    rng = np.random.default_rng(1)
    pairs = [
        (smooth_map(rng, (240, 360), 40, 180), blob_gt(rng, (320, 320))),
        (smooth_map(rng, (427, 640), 0, 255), blob_gt(rng, (320, 320), soft=True)),
        (smooth_map(rng, (500, 410), 90, 120), blob_gt(rng, (320, 320))),
        (smooth_map(rng, (320, 320), 10, 60), blob_gt(rng, (320, 320), soft=True)),
        (np.full((200, 300), 77, np.uint8), blob_gt(rng, (320, 320))),  # nothing reaches 1.5 x mean: P = R = 0
    ]
    result, skipped, items = score_files(tmp_path, pairs, get_protocol("sg"))
    ports = [sg_port(it.map_path, it.gt_path) for it in items]
    assert not skipped
    assert result["metrics"]["mae"] == pytest.approx(np.mean([p[0] for p in ports]), abs=1e-6)
    assert result["metrics"]["f_adaptive"] == pytest.approx(np.mean([p[1] for p in ports]), abs=1e-6)
    # and the old rule (resize to the GT as floats) is measurably different on these maps
    old, _, _ = score_files(tmp_path / "old", pairs, get_protocol("sg", resize="bilinear"))
    assert (
        abs(old["metrics"]["mae"] - result["metrics"]["mae"]) > 0
        or abs(old["metrics"]["f_adaptive"] - result["metrics"]["f_adaptive"]) > 0
    )


def test_sg_refuses_gt_that_is_not_320(tmp_path):
    rng = np.random.default_rng(2)
    with pytest.raises(DbdbenchError, match="320x320"):
        score_files(tmp_path, [(smooth_map(rng, (100, 100), 0, 255), blob_gt(rng, (200, 300)))], get_protocol("sg"))


# ---------------------------------------------------------------- HiFST PRDataComputation.m


def matlab_imresize_port(a, out_shape):
    """MATLAB imresize(A, [H W]) on double data, default bicubic with antialiasing: its contributions()
    (1-based coordinates, mirrored indices), one output pixel at a time, shrinking dimension first."""

    def cubic(x):
        ax = abs(x)
        if ax <= 1:
            return 1.5 * ax**3 - 2.5 * ax**2 + 1
        if ax <= 2:
            return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
        return 0.0

    def contributions(in_len, out_len):
        scale = out_len / in_len
        width = 4.0
        kernel = cubic
        if scale < 1:
            width = 4.0 / scale

            def kernel(x):
                return scale * cubic(scale * x)

        aux = list(range(1, in_len + 1)) + list(range(in_len, 0, -1))
        rows = []
        for x in range(1, out_len + 1):
            u = x / scale + 0.5 * (1 - 1 / scale)
            left = math.floor(u - width / 2)
            taps = [left + k for k in range(math.ceil(width) + 2)]
            w = [kernel(u - j) for j in taps]
            total = sum(w)
            rows.append([(aux[(j - 1) % len(aux)] - 1, wj / total) for j, wj in zip(taps, w)])
        return rows

    out = np.array(a, dtype=float)
    scales = [out_shape[0] / out.shape[0], out_shape[1] / out.shape[1]]
    for dim in sorted((0, 1), key=lambda d: scales[d]):
        if out.shape[dim] == out_shape[dim]:
            continue
        rows = contributions(out.shape[dim], out_shape[dim])
        src = out if dim == 0 else out.T
        res = np.zeros((len(rows), src.shape[1]))
        for i, row in enumerate(rows):
            for j, w in row:
                res[i] += w * src[j]
        out = res if dim == 0 else res.T
    return out


def hifst_port(map_u8, gt_u8_blur_white):
    """One image of PRDataComputation.m: (precision[256], recall[256]) before averaging.

    The map is mat2gray'ed and inverted (the HiFST map is bright where sharp), compared unquantised with
    each threshold. Same-size maps are evaluated in exact arithmetic (the rule); resized maps in double,
    as MATLAB computes them.
    """
    gt = gt_u8_blur_white.astype(np.int64).copy()
    gt[gt > 0.5] = 1  # GT_Img(GT_Img>0.5)=1 on uint8: every nonzero pixel
    gt[gt != 1] = 0
    lo, hi = int(map_u8.min()), int(map_u8.max())
    if map_u8.shape == gt.shape:
        value = [[Fraction(255) - Fraction(int(v) - lo, hi - lo) * 255 for v in row] for row in map_u8]
    else:
        m = (map_u8.astype(float) - lo) / (hi - lo)
        value = matlab_imresize_port(255 - m * 255, gt.shape).tolist()
    precision, recall = np.zeros(256), np.zeros(256)
    ground_truth = int(gt.sum())
    for threshold in range(256):
        tp = detected = 0
        for i, row in enumerate(value):
            for j, v in enumerate(row):
                if v >= threshold:
                    detected += 1
                    tp += int(gt[i, j])
        if tp != 0:
            precision[threshold] = tp / detected
            recall[threshold] = tp / ground_truth
    return precision, recall


def test_hifst_equals_matlab_rule_on_maps_not_spanning_0_255(tmp_path):
    rng = np.random.default_rng(3)
    pairs = []
    for lo, hi in [(30, 200), (100, 140), (5, 255), (0, 85)]:  # 170 = 2 x 85: many values land exactly on a threshold
        g = 255 - blob_gt(rng, (48, 64))  # CUHK convention: blurred = white
        g[rng.random(g.shape) < 0.02] = 3  # stray dark-grey pixels: nonzero, so blurred for HiFST
        pairs.append((smooth_map(rng, (48, 64), lo, hi), g))
    result, _, _ = score_files(tmp_path, pairs, get_protocol("hifst"), gt_polarity="blur")
    ports = [hifst_port(m, g) for m, g in pairs]
    np.testing.assert_allclose(result["curves"]["precision"], np.mean([p for p, _ in ports], axis=0), atol=1e-12)
    np.testing.assert_allclose(result["curves"]["recall"], np.mean([r for _, r in ports], axis=0), atol=1e-12)


def test_hifst_equals_matlab_rule_on_maps_of_another_size(tmp_path):
    rng = np.random.default_rng(4)
    pairs = []
    for shape, (lo, hi) in [((30, 44), (20, 211)), ((70, 90), (47, 163))]:  # one enlarged, one shrunk
        g = 255 - blob_gt(rng, (48, 64))
        pairs.append((smooth_map(rng, shape, lo, hi), g))
    result, _, _ = score_files(tmp_path, pairs, get_protocol("hifst"), gt_polarity="blur")
    ports = [hifst_port(m, g) for m, g in pairs]
    # Thresholds 1..255 agree; at t = 0 MATLAB leaves out pixels that bicubic overshoot pushed below 0,
    # dbdbench counts every pixel there (documented in docs/protocols.md).
    np.testing.assert_allclose(result["curves"]["precision"][1:], np.mean([p for p, _ in ports], axis=0)[1:], atol=1e-9)
    np.testing.assert_allclose(result["curves"]["recall"][1:], np.mean([r for _, r in ports], axis=0)[1:], atol=1e-9)
    positive_fraction = np.mean([(g > 0).mean() for _, g in pairs])
    assert result["curves"]["precision"][0] == pytest.approx(positive_fraction) and result["curves"]["recall"][0] == 1.0


def test_mat2gray_arithmetic_is_exact_for_every_8bit_range():
    """For every lo < hi and every 8-bit value, MATLAB's 255 - 255 * ((v - lo) / (hi - lo)) in double
    compares with the integer thresholds exactly as the real number does (so 'compare' = floor of exact)."""
    v = np.arange(256)
    for lo in range(255):
        his = np.arange(lo + 1, 256)
        vv = v[None, lo:]
        d = (his - lo)[:, None]
        valid = vv <= his[:, None]
        num = (vv - lo) * 255
        exact_floor = 255 - (-(-num // d))  # floor(255 - num / d) in integers
        floated = np.floor(255 - ((vv - lo) / d) * 255)
        floated_up = np.floor(((vv - lo) / d) * 255)
        assert np.array_equal(floated[valid], exact_floor[valid])
        assert np.array_equal(floated_up[valid], (num // d)[valid])


def test_hifst_gt_positive_is_any_nonzero_pixel():
    from dbdbench.metrics import prepare

    gt = np.array([[0, 1, 2, 127, 128, 255]], np.uint8)  # blur-white
    m = np.full((1, 6), 100, np.uint8)
    pair = prepare(m, gt, get_protocol("hifst"), gt_polarity="blur")
    assert pair.positive.tolist() == [[False, True, True, True, True, True]]


# ---------------------------------------------------------------- D-DFFNet test1.py and F_score1


def ddffnet_port(pairs):
    """eval1() of D-DFFNet test1.py with m = 0.5: pairs of other sizes are skipped. Returns (mae, F)."""
    maes, fs = [], []
    for map_u8, gt_u8 in pairs:
        mask = map_u8.astype(float) / 255.0
        zeros = (mask >= 0.5).astype(float)
        gt = gt_u8 / 255.0
        if gt.shape != mask.shape:
            continue
        gt = (gt >= 0.5).astype(float)
        maes.append(np.mean(np.abs(gt - mask)))
        gt, zeros = 1 - gt, 1 - zeros  # blurred pixels are the positive class
        tp = float((gt * zeros).sum())
        precision = tp / zeros.sum() if zeros.sum() else 0.0
        recall = tp / gt.sum() if gt.sum() else 0.0
        fs.append(f_measure(precision, recall))
    return np.mean(maes), np.mean(fs)


def f_score1_port(pred, gt_focus):
    """utils.F_score1 of D-DFFNet on one image: binarise at 0.5, then eval_pr(1 - pred, 1 - gt, 255)."""
    y_pred = (pred >= 0.5).astype(float)
    b, y = 1 - y_pred, 1 - gt_focus
    best = 0.0
    for th in np.linspace(0, 1, 255):
        y_temp = (b >= th).astype(float)
        tp = (y_temp * y).sum()
        prec, rec = tp / (y_temp.sum() + 1e-20), tp / (y.sum() + 1e-20)
        score = (1 + 0.3) * prec * rec / (0.3 * prec + rec + 1e-10)
        best = max(best, 0.0 if score != score else score)
    return best


def test_ddffnet_equals_port_of_test1_py(tmp_path):
    rng = np.random.default_rng(5)
    pairs = [
        (smooth_map(rng, (60, 80), lo, hi), blob_gt(rng, (60, 80), soft=True))
        for lo, hi in [(0, 255), (60, 190), (130, 250)]
    ]
    result, _, _ = score_files(tmp_path, pairs, get_protocol("ddffnet"))
    mae, f = ddffnet_port(pairs)
    assert result["metrics"]["mae"] == pytest.approx(mae, abs=1e-12)
    assert result["metrics"]["f_fixed"] == pytest.approx(f, abs=1e-12)


def test_ddffnet_refuses_other_sizes_and_skip_bad_drops_them_as_test1_py(tmp_path):
    rng = np.random.default_rng(6)
    pairs = [(smooth_map(rng, (60, 80), 20, 230), blob_gt(rng, (60, 80))) for _ in range(3)]
    pairs.insert(1, (smooth_map(rng, (30, 40), 0, 255), blob_gt(rng, (60, 80))))
    with pytest.raises(DbdbenchError, match="resize rule is 'none'"):
        score_files(tmp_path / "a", pairs, get_protocol("ddffnet"))
    result, skipped, _ = score_files(tmp_path / "b", pairs, get_protocol("ddffnet"), skip_bad=True)
    assert [s["stem"] for s in skipped] == ["im1"] and result["n_images"] == 3
    mae, f = ddffnet_port(pairs)
    assert result["metrics"]["mae"] == pytest.approx(mae, abs=1e-12)
    assert result["metrics"]["f_fixed"] == pytest.approx(f, abs=1e-12)


def test_f_score1_equals_port_of_utils_f_score1(tmp_path):
    rng = np.random.default_rng(7)
    pairs = [(smooth_map(rng, (50, 70), lo, hi), blob_gt(rng, (50, 70))) for lo, hi in [(0, 255), (140, 250), (0, 100)]]
    pairs.append((np.full((50, 70), 200, np.uint8), blob_gt(rng, (50, 70))))  # all sharp: F(all blurred) wins
    result, _, _ = score_files(tmp_path, pairs, get_protocol("ddffnet"))
    ports = [f_score1_port(m / 255.0, (g / 255.0 >= 0.5).astype(float)) for m, g in pairs]
    assert result["metrics"]["f_score1"] == pytest.approx(np.mean(ports), abs=1e-8)
    assert result["metrics"]["f_score1"] >= result["metrics"]["f_fixed"]


# ---------------------------------------------------------------- what each protocol records


def test_source_metrics_and_extras_are_recorded():
    for p in PROTOCOLS.values():
        d = p.as_dict()
        assert set(d["source_metrics"]) | set(d["extra_metrics"]) == set(METRICS)
        assert not set(d["source_metrics"]) & set(d["extra_metrics"])
    assert PROTOCOLS["sg"].extra_metrics() == ["f_max", "f_mean", "f_fixed", "f_score1", "iou"]
    assert "iou" in PROTOCOLS["ddffnet"].source_metrics and PROTOCOLS["dd"].source_metrics == ("mae", "f_adaptive")
    assert (
        "f_adaptive" in PROTOCOLS["ddffnet"].extra_metrics() and "f_score1" not in PROTOCOLS["ddffnet"].extra_metrics()
    )
    assert PROTOCOLS["hifst"].source_metrics == () and "all" in PROTOCOLS["hifst"].expects
    custom = get_protocol("sg", resize="bilinear")
    assert custom.name == "sg+custom" and custom.source == PROTOCOLS["sg"].source


def test_fixed_size_resize_rule_is_validated():
    assert get_protocol("dbd", resize="64x48").fixed_size() == (48, 64)
    for bad in ("320", "x320", "0x10", "lanczos"):
        with pytest.raises(DbdbenchError, match="resize"):
            get_protocol("dbd", resize=bad)
    with pytest.raises(DbdbenchError, match="unknown protocol option"):
        get_protocol("dbd", source="me")
