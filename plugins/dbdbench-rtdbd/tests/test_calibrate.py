"""The logit temperature: folding it into the head, the sharpening formula, the choice of t, the command."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dbdbench_rtdbd.calibrate import (
    calibrate,
    fit_temperature,
    fold_temperature,
    sharpen,
    uncalibrate,
)
from dbdbench_rtdbd.model import build


def read_metadata(path) -> dict[str, str]:
    """The metadata exactly as stored in the file (no renaming of old variants)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return dict(fh.metadata() or {})


def test_folding_multiplies_the_logits_by_t():
    torch.manual_seed(0)
    net = build("lite").eval()
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        before = net(x, logits=True)
        fold_temperature(net, 3.5)
        after = net(x, logits=True)
    torch.testing.assert_close(after, 3.5 * before, rtol=1e-5, atol=1e-5)


def test_sharpen_is_the_sigmoid_of_the_scaled_logit():
    p = np.array([0.1, 0.5, 0.7, 0.999], dtype=np.float32)
    z = np.log(p / (1 - p))
    np.testing.assert_allclose(sharpen(p, 2.0), 1 / (1 + np.exp(-2.0 * z)), rtol=1e-6)
    np.testing.assert_allclose(sharpen(p, 1.0), p, rtol=1e-6)


def _pairs(prob_right: float, prob_wrong: float, n_wrong: int):
    """One 20x20 image: left half in focus, right half blurred; ``n_wrong`` columns of the blurred half are
    predicted at ``prob_wrong`` (wrong side of 0.5), the rest on the right side at ``prob_right``."""
    gt = np.zeros((20, 20), np.uint8)
    gt[:, :10] = 1
    prob = np.where(gt == 1, prob_right, 1 - prob_right).astype(np.float32)
    prob[:, 10 : 10 + n_wrong] = prob_wrong
    return [(np.zeros((20, 20, 3), np.uint8), gt)], [prob]


def test_hedged_but_right_maps_are_sharpened():
    pairs, probs = _pairs(prob_right=0.7, prob_wrong=0.45, n_wrong=0)
    t, scores = fit_temperature(pairs, probs, grid=(1.0, 2.0, 4.0))
    # slow reference: MAE by hand, sharpened maps quantised to 8 bits as the cache stores them
    for g, s in scores.items():
        q = np.rint(sharpen(probs[0], g) * 255) / 255
        assert s["mae"] == pytest.approx(np.abs(q - pairs[0][1]).mean(), abs=1e-6)
    assert t == 4.0


def test_past_the_knee_the_smallest_near_best_t_wins():
    # right everywhere: the score creeps up with t for ever, by less and less; the knee is chosen, not t=48
    pairs, probs = _pairs(prob_right=0.8, prob_wrong=0.45, n_wrong=0)
    grid = (1.0, 2.0, 4.0, 8.0, 16.0, 48.0)
    t, scores = fit_temperature(pairs, probs, grid=grid, tolerance=1e-3)
    best = max(s["score"] for s in scores.values())
    assert scores[48.0]["score"] == best and t < 48.0
    assert scores[t]["score"] >= best - 1e-3
    assert all(scores[g]["score"] < best - 1e-3 for g in grid if g < t)


def test_confidently_wrong_maps_are_left_alone():
    # sharpening would push the wrong 0.6s towards 1 (+0.4 error each) to gain 0.01 on the right 0.99s
    pairs, probs = _pairs(prob_right=0.99, prob_wrong=0.6, n_wrong=10)
    t, _ = fit_temperature(pairs, probs, grid=(1.0, 2.0, 4.0))
    assert t == 1.0


def test_the_command_writes_calibrated_weights_once(tmp_path):
    from dbdbench_torch.weights import save_weights

    src, out = tmp_path / "w.safetensors", tmp_path / "cal.safetensors"
    torch.manual_seed(0)
    save_weights(build("lite"), src, metadata={"method": "rtdbd", "variant": "lite"})
    result = calibrate(src, out, val_n=2, val_size=96)
    meta = read_metadata(out)
    assert meta["method"] == "rtdbd" and '"temperature"' in meta["calibration"]
    assert result["temperature"] >= 1.0 and result["val_after"]["score"] >= result["val_before"]["score"]
    with pytest.raises(ValueError, match="already calibrated"):
        calibrate(out, tmp_path / "again.safetensors", val_n=2, val_size=96)


def test_weights_named_before_the_rename_calibrate_as_lite_plain(tmp_path):
    from dbdbench_torch.weights import save_weights

    src, out = tmp_path / "old.safetensors", tmp_path / "cal.safetensors"
    save_weights(build("lite-plain"), src, metadata={"method": "rtdbd", "variant": "lite"})
    calibrate(src, out, val_n=1, val_size=64)
    assert read_metadata(out)["variant"] == "lite-plain"


def test_undo_recovers_the_uncalibrated_network(tmp_path):
    from dbdbench_torch.weights import load_weights, save_weights

    torch.manual_seed(0)
    net = build("lite").eval()
    src, cal, back = tmp_path / "w.safetensors", tmp_path / "cal.safetensors", tmp_path / "back.safetensors"
    save_weights(net, src, metadata={"method": "rtdbd", "variant": "lite"})
    fold_temperature(net, 8.0)
    save_weights(net, cal, metadata={"method": "rtdbd", "variant": "lite", "calibration": {"temperature": 8.0}})
    result = uncalibrate(cal, back)
    assert result["temperature"] == 8.0 and "calibration" not in read_metadata(back)
    x = torch.rand(1, 3, 32, 32)
    original, recovered = build("lite").eval(), build("lite").eval()
    load_weights(original, src)
    load_weights(recovered, back)
    with torch.no_grad():
        torch.testing.assert_close(recovered(x, logits=True), original(x, logits=True), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="not calibrated"):
        uncalibrate(src, tmp_path / "again.safetensors")
