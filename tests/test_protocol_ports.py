"""D-DFFNet's ``iou`` and the ``dd`` protocol against slow, independent ports of their sources.

* ``iou1_port``: yuxinjin-whu/D-DFFNet ``test_iou1.py`` (map and GT read with Pillow as 'L', ``/ 255``,
  binarised at ``> 0.5``, inverted so blurred is 1, pixels of same-size pairs concatenated, one IoU);
* ``dd_port``: vinthony/depth-distillation ``eval.ipynb`` with its ``datasets.py`` and ``utils.resize_to_match``
  (GT ``/ 255``, ``1 - GT`` on CUHK; the map brought to the GT size by PyTorch's bilinear upsampling; MAE by
  ``absdiff``; both truncated to 8 bits and thresholded at ``> min(1.5 mean, 255)``; every pixel pooled into
  scikit-learn's ``precision_score`` / ``recall_score``; one F).

They share no code with dbdbench and loop where the source is pixel-wise. The inputs hit what these sources
make subtle: ties at the adaptive threshold (strict ``>``), GT that ends up empty (all black, all white, or
more than two thirds in focus, where min(1.5 mean, 255) = 255), soft GT, blur-white GT (the notebook's
``np.uint8((1 - g / 255) * 255)`` loses a level on some values), maps of another size.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dbdbench.errors import DbdbenchError
from dbdbench.protocols import get_protocol
from dbdbench.scoring import ScoreItem, score_items

# ---------------------------------------------------------------- test data and scoring


def write(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


def score(tmp_path, pairs, protocol, *, gt_polarity="focus", skip_bad=False):
    """dbdbench on (map, GT) uint8 pairs written as PNG; returns (metrics, per-image rows, skipped, items)."""
    items = [
        ScoreItem(
            f"im{i:02d}", write(tmp_path / "maps" / f"im{i:02d}.png", m), write(tmp_path / "gt" / f"im{i:02d}.png", g)
        )
        for i, (m, g) in enumerate(pairs)
    ]
    evaluator, skipped = score_items(items, protocol, gt_polarity=gt_polarity, skip_bad=skip_bad, workers=1)
    return evaluator.results()["metrics"], evaluator.per_image, skipped, items


def smooth(rng, shape, lo, hi):
    from scipy import ndimage

    x = ndimage.gaussian_filter(rng.random(shape), 2)
    x = (x - x.min()) / (x.max() - x.min())
    return np.rint(lo + x * (hi - lo)).astype(np.uint8)


def ellipse(rng, shape, soft=False):
    """Focus-white GT: an ellipse in focus, with grey edges when ``soft``."""
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    r = ((yy - rng.uniform(0.3, 0.7) * h) / (0.35 * h)) ** 2 + ((xx - rng.uniform(0.3, 0.7) * w) / (0.35 * w)) ** 2
    return (np.clip((1.4 - r) * 400, 0, 255) if soft else (r < 1) * 255).astype(np.uint8)


# ---------------------------------------------------------------- D-DFFNet test_iou1.py


def iou1_port(map_paths, gt_paths):
    """iou() of test_iou1.py, on map files and focus-white GT files (the layout it reads)."""
    GT = np.array([0])
    MASK = np.array([0])
    for map_path, gt_path in zip(map_paths, gt_paths):
        mask = np.array(Image.open(map_path).convert("L")) / 255.0
        gt = np.array(Image.open(gt_path).convert("L")) / 255.0
        if gt.shape == mask.shape:
            gt[gt > 0.5] = 1.0
            gt[gt <= 0.5] = 0.0
            mask[mask > 0.5] = 1.0
            mask[mask <= 0.5] = 0.0
            gt = 1 - gt
            mask = 1 - mask
            GT = np.concatenate((GT, gt.reshape(-1)), 0)
            MASK = np.concatenate((MASK, mask.reshape(-1)), 0)
    pred = MASK[1:]
    target = GT[1:]
    pred_inds = pred == 1
    target_inds = target == 1
    intersection = (pred_inds[target_inds]).sum()
    union = pred_inds.sum() + target_inds.sum() - intersection
    return float(intersection) / float(union)  # ZeroDivisionError when both are empty


def focus_white_files(tmp_path, items, gt_polarity):
    """test_iou1.py reads focus-white GT: write the files it would read (255 - raw for blur-white GT)."""
    out = []
    for it in items:
        g = np.asarray(Image.open(it.gt_path).convert("L"))
        out.append(write(tmp_path / "focus_gt" / it.gt_path.name, 255 - g if gt_polarity == "blur" else g))
    return out


def test_iou_equals_port_of_test_iou1_on_ties_and_soft_gt(tmp_path):
    rng = np.random.default_rng(21)
    pairs = [(smooth(rng, (40, 56), lo, hi), ellipse(rng, (40, 56), soft=True)) for lo, hi in [(0, 255), (100, 160)]]
    # every level around the 0.5 boundary, in map and GT: 127 is blurred, 128 in focus, in both
    ramp = np.tile(np.arange(120, 136, dtype=np.uint8), (16, 1))
    pairs.append((ramp, ramp.T.copy()))
    pairs.append((np.full((16, 16), 128, np.uint8), np.full((16, 16), 127, np.uint8)))  # all wrong
    metrics, rows, _, items = score(tmp_path, pairs, get_protocol("ddffnet"))
    expected = iou1_port([it.map_path for it in items], [it.gt_path for it in items])
    assert metrics["iou"] == pytest.approx(expected, abs=1e-15)
    # the per-image counts re-pool to the headline (what a bootstrap over images resamples)
    tp, fp, fn = (sum(r[k] for r in rows) for k in ("iou_tp", "iou_fp", "iou_fn"))
    assert tp / (tp + fp + fn) == pytest.approx(metrics["iou"], abs=1e-15)


def test_iou_on_blur_white_gt_equals_port_on_the_focus_white_files(tmp_path):
    rng = np.random.default_rng(22)
    pairs = [(smooth(rng, (30, 50), 20, 240), 255 - ellipse(rng, (30, 50), soft=soft)) for soft in (False, True, True)]
    metrics, _, _, items = score(tmp_path, pairs, get_protocol("ddffnet"), gt_polarity="blur")
    expected = iou1_port([it.map_path for it in items], focus_white_files(tmp_path, items, "blur"))
    assert metrics["iou"] == pytest.approx(expected, abs=1e-15)


def test_iou_of_an_empty_union_is_zero_where_the_source_divides_by_zero(tmp_path):
    pairs = [(np.full((8, 8), 200, np.uint8), np.full((8, 8), 255, np.uint8))] * 2  # all in focus, all called so
    metrics, _, _, items = score(tmp_path, pairs, get_protocol("ddffnet"))
    with pytest.raises(ZeroDivisionError):
        iou1_port([it.map_path for it in items], [it.gt_path for it in items])
    assert metrics["iou"] == 0.0


def test_iou_drops_off_size_pairs_only_with_skip_bad_as_test_iou1_does(tmp_path):
    rng = np.random.default_rng(23)
    pairs = [(smooth(rng, (30, 40), 0, 255), ellipse(rng, (30, 40))) for _ in range(3)]
    pairs.insert(1, (smooth(rng, (20, 40), 0, 255), ellipse(rng, (30, 40))))
    with pytest.raises(DbdbenchError, match="resize rule is 'none'"):
        score(tmp_path / "a", pairs, get_protocol("ddffnet"))
    metrics, _, skipped, items = score(tmp_path / "b", pairs, get_protocol("ddffnet"), skip_bad=True)
    assert [s["stem"] for s in skipped] == ["im01"]
    assert metrics["iou"] == pytest.approx(iou1_port([i.map_path for i in items], [i.gt_path for i in items]))


def test_iou_is_an_extra_with_the_same_options_elsewhere(tmp_path):
    """Under dbd: the in-focus class, predicted where map / 255 >= 0.5, GT > 127, pooled over the pixels;
    resized maps are first brought to the GT size, as every other dbd metric."""
    rng = np.random.default_rng(24)
    pairs = [(smooth(rng, (30, 40), 0, 255), ellipse(rng, (30, 40), soft=True)) for _ in range(3)]
    metrics, _, _, _ = score(tmp_path, pairs, get_protocol("dbd"))
    tp = fp = fn = 0
    for m, g in pairs:
        for v, gv in zip(m.ravel().tolist(), g.ravel().tolist()):
            pred, true = v / 255 >= 0.5, gv > 127
            tp, fp, fn = tp + (pred and true), fp + (pred and not true), fn + (true and not pred)
    assert metrics["iou"] == pytest.approx(tp / (tp + fp + fn), abs=1e-15)
    assert "iou" in get_protocol("dbd").extra_metrics() and "iou" in get_protocol("ddffnet").source_metrics


# ---------------------------------------------------------------- depth-distillation eval.ipynb


def torch_bilinear_port(a, out_shape):
    """``F.interpolate(x, size, mode='bilinear')`` (align_corners=False) on a 2-D float array, pixel by pixel."""
    in_h, in_w = a.shape
    out_h, out_w = out_shape
    out = np.zeros(out_shape)

    def source(dst, in_len, out_len):
        s = max((dst + 0.5) * in_len / out_len - 0.5, 0.0)
        i0 = math.floor(s)
        return i0, min(i0 + 1, in_len - 1), s - i0

    for y in range(out_h):
        y0, y1, ly = source(y, in_h, out_h)
        for x in range(out_w):
            x0, x1, lx = source(x, in_w, out_w)
            top = (1 - lx) * a[y0, x0] + lx * a[y0, x1]
            bottom = (1 - lx) * a[y1, x0] + lx * a[y1, x1]
            out[y, x] = (1 - ly) * top + ly * bottom
    return out


def adaptive_labels(pred_float, gt_float) -> tuple[list[float], list[float]]:
    """The 0/1 labels the dd and evp sources hand scikit-learn: map and GT back to uint8, each cut with '>' at
    min(1.5 x its mean, 255), pixel by pixel."""
    h, w = pred_float.shape
    pred = np.uint8(pred_float * 255)
    gt = np.uint8(gt_float * 255)
    t_pred, t_gt = min(1.5 * np.mean(pred), 255), min(1.5 * np.mean(gt), 255)
    preds = [1.0 if pred[i, j] > t_pred else 0.0 for i in range(h) for j in range(w)]
    labels = [1.0 if gt[i, j] > t_gt else 0.0 for i in range(h) for j in range(w)]
    return preds, labels


def sklearn_fmeasure(gts, preds) -> np.float64:
    """F (beta^2 = 0.3) of scikit-learn's precision and recall, as both sources compute it: nan for 0 / 0."""
    from sklearn.metrics import precision_score, recall_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's UndefinedMetricWarning and numpy's 0/0
        # numpy floats, as scikit-learn returned them in 2020 (1.x returns Python floats, and 0 / 0 would raise)
        recall = np.float64(recall_score(gts, preds))
        precision = np.float64(precision_score(gts, preds))
        return (1 + 0.3) * precision * recall / (0.3 * precision + recall)


def dd_port(pairs, cuhk=False):
    """val() of eval.ipynb on (map uint8, raw GT uint8) pairs: the map stands for the network's sigmoid output
    (v / 255), brought to the GT size as resize_to_match does. ``cuhk``: DefocusDataset's ``mask = 1 - mask``.
    Returns (MAE, F); F is nan where the notebook divides 0 by 0."""
    mae, preds, gts = [], [], []
    for map_u8, gt_u8 in pairs:
        mask = np.asarray(gt_u8) / 255.0
        if cuhk:
            mask = 1 - mask
        pred_float = map_u8 / 255.0
        if pred_float.shape != mask.shape:
            pred_float = torch_bilinear_port(pred_float, mask.shape)
        gt_float = mask
        h, w = pred_float.shape
        mae.append(sum(abs(gt_float[i, j] - pred_float[i, j]) for i in range(h) for j in range(w)) / (w * h))
        image_preds, image_gts = adaptive_labels(pred_float, gt_float)
        preds.extend(image_preds)
        gts.extend(image_gts)
    return float(np.mean(mae)), float(sklearn_fmeasure(gts, preds))


def test_dd_equals_port_of_eval_ipynb_on_ties_empty_gt_and_soft_gt(tmp_path):
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(31)
    tie = np.zeros((12, 18), np.uint8)
    tie[:, 6:] = 90  # mean 60: the threshold 1.5 x 60 = 90 equals the map's level, and '>' leaves it out
    gt_tie = np.zeros((12, 18), np.uint8)
    gt_tie[:, :12] = 150  # mean 100: 150 is the threshold, so this GT has no positive pixel
    three_quarters = np.zeros((12, 18), np.uint8)
    three_quarters[:9] = 255  # > 2/3 in focus: min(1.5 mean, 255) = 255 and nothing is > 255
    pairs = [
        (smooth(rng, (24, 32), 0, 255), ellipse(rng, (24, 32))),
        (smooth(rng, (24, 32), 40, 200), ellipse(rng, (24, 32), soft=True)),  # DUT-like grey edges
        (tie, ellipse(rng, (12, 18))),
        (smooth(rng, (12, 18), 0, 255), gt_tie),
        (smooth(rng, (12, 18), 0, 255), np.zeros((12, 18), np.uint8)),  # all blurred
        (smooth(rng, (12, 18), 0, 255), np.full((12, 18), 255, np.uint8)),  # all in focus: empty too
        (smooth(rng, (12, 18), 0, 255), three_quarters),
        (np.zeros((12, 18), np.uint8), ellipse(rng, (12, 18))),  # nothing predicted
    ]
    metrics, rows, _, _ = score(tmp_path, pairs, get_protocol("dd"))
    mae, f = dd_port(pairs)
    assert metrics["mae"] == pytest.approx(mae, abs=1e-12)
    assert metrics["f_adaptive"] == pytest.approx(f, abs=1e-12)
    # the pooled counts are in the per-image rows: re-pooling them gives the headline
    tp, predicted, positive = (sum(r[k] for r in rows) for k in ("f_adaptive_tp", "f_adaptive_predicted", "n_positive"))
    p, r = tp / predicted, tp / positive
    assert (1.3 * p * r) / (0.3 * p + r) == pytest.approx(metrics["f_adaptive"], abs=1e-12)
    assert [row["n_positive"] for row in rows][3:7] == [0, 0, 0, 0]


def test_dd_on_blur_white_soft_gt_keeps_the_notebooks_8_bit_truncation(tmp_path):
    """CUHK is blur-white: the notebook's GT is np.uint8((1 - g / 255) * 255), one level below 255 - g for 50 of
    the 256 values of g; on soft GT that moves the GT's adaptive threshold, and dbdbench follows it."""
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(32)
    pairs = [(smooth(rng, (20, 30), 0, 255), 255 - ellipse(rng, (20, 30), soft=True)) for _ in range(3)]
    # 141 pixels at 0 (in focus, 255), 114 at 255 (blurred, 0) and one at 43: the notebook reads that one as 211,
    # not 212, and 211 is not above the threshold (1.5 x the mean) while 212 is
    raw = np.full(256, 255, np.uint8)
    raw[:141], raw[141] = 0, 43
    pairs.append((smooth(rng, (16, 16), 0, 255), raw.reshape(16, 16)))
    metrics, _, _, _ = score(tmp_path, pairs, get_protocol("dd"), gt_polarity="blur")
    mae, f = dd_port(pairs, cuhk=True)
    assert metrics["mae"] == pytest.approx(mae, abs=1e-12)
    assert metrics["f_adaptive"] == pytest.approx(f, abs=1e-12)
    assert dd_port([(m, 255 - g) for m, g in pairs])[1] != pytest.approx(f, abs=1e-6)  # the case does matter


def test_dd_on_smaller_maps_upsamples_as_resize_to_match(tmp_path):
    """Maps below the GT size are brought to it bilinearly; dbdbench's bilinear equals PyTorch's (align_corners
    False) when enlarging, to float rounding. The 8-bit truncation after it can fall either side of a level
    where the interpolated value is within rounding of one, so F agrees to a tolerance, MAE exactly."""
    pytest.importorskip("sklearn")
    from dbdbench.resize import resize

    rng = np.random.default_rng(33)
    small = smooth(rng, (15, 20), 0, 255) / 255.0
    np.testing.assert_allclose(resize(small, (41, 47), "bilinear"), torch_bilinear_port(small, (41, 47)), atol=1e-12)
    pairs = [(smooth(rng, shape, 10, 250), ellipse(rng, (36, 44), soft=True)) for shape in [(18, 22), (30, 40)]]
    metrics, _, _, _ = score(tmp_path, pairs, get_protocol("dd"))
    mae, f = dd_port(pairs)
    assert metrics["mae"] == pytest.approx(mae, abs=1e-12)
    assert metrics["f_adaptive"] == pytest.approx(f, abs=5e-3)


def test_torch_bilinear_port_is_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(34)
    a = rng.random((9, 13))
    ours = torch_bilinear_port(a, (23, 31))
    theirs = torch.nn.functional.interpolate(torch.from_numpy(a)[None, None], size=(23, 31), mode="bilinear")
    np.testing.assert_allclose(ours, theirs[0, 0].numpy(), atol=1e-12)


def test_dd_where_nothing_is_positive_anywhere_gives_zero_where_the_notebook_gives_nan(tmp_path):
    pytest.importorskip("sklearn")
    pairs = [(np.full((8, 8), 100, np.uint8), np.full((8, 8), 255, np.uint8))] * 2  # no GT positive, none predicted
    metrics, _, _, _ = score(tmp_path, pairs, get_protocol("dd"))
    mae, f = dd_port(pairs)
    assert math.isnan(f) and metrics["f_adaptive"] == 0.0
    assert metrics["mae"] == pytest.approx(mae, abs=1e-15)


# ---------------------------------------------------------------- the released HiFST maps (CUHK-TE-1)


def test_headline_numbers_on_released_hifst_maps(shared, real_shared, derived):
    """D-DFFNet's IoU and depth-distillation's F and MAE for HiFST's released maps on CUHK-TE-1, as the sources'
    code gives them (tests/fixtures/shared_derived.json, made by literal ports of the sources): dbdbench gives
    the same on the real data, or on the stand-in rebuilt from the committed counts when the data is absent."""
    from dbdbench.api import list_samples, open_dataset, score_maps

    facts = derived.load()[1]["headline"]["cuhk_te1_hifst"]
    if real_shared is not None:  # the committed numbers are those of today's files and ports
        assert derived.headline_numbers(real_shared)["cuhk_te1_hifst"] == facts
    ds = open_dataset("cuhk", root=shared / "cuhk", split="te1")
    listing = list_samples(ds)
    maps = shared / "cuhk" / "results" / "hifst"
    for name, expected in facts.items():
        result, _ = score_maps(maps, ds, listing, get_protocol(name), map_suffix="_HiFSTBlurMap", workers=1)
        for key, value in expected.items():
            assert result.metrics[key] == pytest.approx(value, abs=1e-12), (name, key)


def test_iou_on_released_hifst_maps_equals_port_of_test_iou1(real_shared, tmp_path):
    """The port above, on the real files (focus-white GT written as D-DFFNet's data has it)."""
    if real_shared is None:
        pytest.skip("needs the shared research data (the stand-in is checked by the headline test)")
    from dbdbench.api import list_samples, open_dataset, score_maps

    ds = open_dataset("cuhk", root=real_shared / "cuhk", split="te1")
    listing = list_samples(ds)
    maps = real_shared / "cuhk" / "results" / "hifst"
    result, _ = score_maps(maps, ds, listing, get_protocol("ddffnet"), map_suffix="_HiFSTBlurMap", workers=1)
    gts = []
    for sample in listing.samples:
        raw = np.asarray(Image.open(sample.gt).convert("L"))
        gts.append(write(tmp_path / f"{sample.stem}.png", 255 - raw))
    map_paths = [maps / f"{s.stem}_HiFSTBlurMap.png" for s in listing.samples]
    assert result.metrics["iou"] == pytest.approx(iou1_port(map_paths, gts), abs=1e-12)


# ---------------------------------------------------------------- Explicit-Visual-Prompt utils.calc_fmeasure


def evp_port(map_paths, gt_paths, batch_size=4):
    """test.py's eval_psnr with eval_type 'fmeasure': ValDataset resizes each mask to 320x320 with NEAREST and
    ToTensor's it (float32 / 255); the map stands for the network's 320x320 sigmoid output; calc_fmeasure runs
    per batch of ``batch_size`` (file order), and Averager weights each batch by its size."""
    f_avg = mae_avg = 0.0
    n_avg = 0
    for start in range(0, len(map_paths), batch_size):
        batch = list(zip(map_paths, gt_paths))[start : start + batch_size]
        mae, preds, gts = [], [], []
        for map_path, gt_path in batch:
            mask = Image.open(gt_path).convert("L").resize((320, 320), Image.NEAREST)
            gt_float = np.asarray(mask).astype(np.float32) / np.float32(255)
            pred_float = np.asarray(Image.open(map_path).convert("L")).astype(np.float32) / np.float32(255)
            h, w = pred_float.shape
            mae.append(
                sum(abs(float(gt_float[i, j]) - float(pred_float[i, j])) for i in range(h) for j in range(w)) / (w * h)
            )
            image_preds, image_gts = adaptive_labels(pred_float, gt_float)
            preds.extend(image_preds)
            gts.extend(image_gts)
        fmeasure = sklearn_fmeasure(gts, preds)
        n = len(batch)  # Averager.add(v, n): a running mean weighted by batch size
        f_avg = (f_avg * n_avg + fmeasure * n) / (n_avg + n)
        mae_avg = (mae_avg * n_avg + np.mean(mae) * n) / (n_avg + n)
        n_avg += n
    return float(mae_avg), float(f_avg)


def test_evp_equals_port_of_calc_fmeasure_per_batch_of_4(tmp_path):
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(41)
    pairs = [
        (smooth(rng, (320, 320), 0, 255), ellipse(rng, (320, 320), soft=True)),
        (smooth(rng, (320, 320), 30, 220), ellipse(rng, (300, 400))),  # GT resized to 320x320 with NEAREST
        (smooth(rng, (320, 320), 0, 255), np.zeros((200, 240), np.uint8)),  # empty GT
        (smooth(rng, (320, 320), 60, 120), ellipse(rng, (427, 640), soft=True)),
        (np.zeros((320, 320), np.uint8), ellipse(rng, (320, 320))),  # nothing predicted
        (smooth(rng, (320, 320), 0, 255), ellipse(rng, (256, 256))),  # a last, partial batch of 2
    ]
    metrics, _, _, items = score(tmp_path, pairs, get_protocol("evp"))
    mae, f = evp_port([it.map_path for it in items], [it.gt_path for it in items])
    assert metrics["mae"] == pytest.approx(mae, abs=1e-7)  # the source's float32 GT and map
    assert metrics["f_adaptive"] == pytest.approx(f, abs=1e-12)
    pooled, _, _, _ = score(tmp_path / "one-pool", pairs, get_protocol("evp", pool_images=0))
    assert pooled["f_adaptive"] != pytest.approx(f, abs=1e-6)  # the batches matter
