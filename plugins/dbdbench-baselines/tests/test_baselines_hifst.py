import numpy as np
import pytest
from dbdbench_baselines import hifst


def brute_layers(grad, scales, n_layers):
    """Per-pixel loop exactly as HiFST.m (zero padding, dctmtx, u+v >= M-1, sort)."""
    pad = max(scales) // 2
    gp = np.pad(grad, pad)
    h, w = grad.shape
    out = np.zeros((h, w, n_layers))
    for i in range(h):
        for j in range(w):
            vals = []
            for m in scales:
                r = m // 2
                patch = gp[i + pad - r : i + pad + r + 1, j + pad - r : j + pad + r + 1]
                d = hifst.dct_matrix(m)
                c = np.abs(d @ patch @ d.T)
                vals.append(c[hifst.high_freq_mask(m)])
            out[i, j] = np.sort(np.concatenate(vals))[:n_layers]
    return out


def test_freq_bands_match_matlab_labels():
    # FreqBands(7) in HiFST.m labels exactly the 28 entries with u+v >= 6 as high frequency
    assert hifst.high_freq_mask(7).sum() == 28
    assert [hifst.high_freq_mask(m).sum() for m in (7, 15, 31, 63)] == [28, 120, 496, 2016]


@pytest.mark.parametrize("stride", [1, 2])
def test_sorted_layers_match_brute_force(stride):
    rng = np.random.default_rng(0)
    grad = rng.random((13, 17)) * 50
    scales = (7, 15)
    n = 23
    fast = hifst.sorted_layers(grad, scales=scales, n_layers=n, stride=stride, chunk_rows=3, workers=2)
    ref = brute_layers(grad, scales, n)[::stride, ::stride]
    assert fast.shape == ref.shape
    np.testing.assert_allclose(fast, ref, rtol=1e-4, atol=1e-3)


def test_rf_filter_constant_is_fixed_point():
    x = np.full((20, 30), 0.7)
    j = np.random.default_rng(0).random((20, 30))
    np.testing.assert_allclose(hifst.rf_filter(x, 15, 0.25, 3, j), 0.7, atol=1e-12)


FIDELITY_STEMS = ["motion0138", "out_of_focus0607"]
ALL_STEMS = [
    "out_of_focus0011",
    "out_of_focus0031",
    "out_of_focus0223",
    "out_of_focus0284",
    "out_of_focus0607",
    "motion0138",
    "motion0239",
]


def _fidelity(data, stem):
    from dbdbench.io import read_gray, read_rgb

    img = read_rgb(data / "cuhk" / "image" / f"{stem}.jpg")
    ref = read_gray(data / "cuhk" / "results" / "hifst" / f"{stem}_HiFSTBlurMap.png").astype(np.float64)
    pred = hifst.HiFST().predict(img)
    assert pred.shape == ref.shape
    return float(np.corrcoef(pred.ravel(), ref.ravel())[0, 1])


def _recorded(derived, stem):
    """The fidelity recorded in tests/fixtures from the real photos: (Pearson r, r from the committed counts)."""
    arrays, facts = derived.load()
    images = facts["fidelity"]["images"]
    i = [im["stem"] for im in images].index(stem)
    rows = arrays["fidelity"][arrays["fidelity"][:, 0] == i]
    return images[i]["pearson_r"], derived.pearson_from_joint(rows)


def test_fingerprint_matches_the_code_the_fidelity_counts_were_made_with(derived):
    """Our hifst map of a fixed synthetic scene equals the one recorded with the fidelity counts (up to float32
    noise): the recorded fidelity is the fidelity of this code. A change to hifst's output fails here until
    tests/fixtures/make_fixtures.py is re-run on the shared data."""
    arrays, _ = derived.load()
    now = derived.fingerprint_map().astype(np.int16)
    diff = np.abs(now - arrays["fingerprint"].astype(np.int16))
    assert diff.max() <= 2 and diff.mean() < 0.05, (diff.max(), diff.mean())


def _check(real_shared, derived, stem):
    recorded, from_counts = _recorded(derived, stem)
    if real_shared is not None:  # the real photos: measure, and check the committed record is current
        r = _fidelity(real_shared, stem)
        assert r >= 0.99
        assert abs(r - recorded) < 2e-3, (r, recorded)
    else:  # a clone without the photos: the committed counts, made by this code (see the fingerprint test)
        test_fingerprint_matches_the_code_the_fidelity_counts_were_made_with(derived)
        assert recorded >= 0.99
    assert from_counts >= 0.99 and abs(from_counts - recorded) < 2e-3


@pytest.mark.parametrize("stem", FIDELITY_STEMS)
def test_fidelity_against_released_maps(real_shared, derived, stem):
    _check(real_shared, derived, stem)


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(set(ALL_STEMS) - set(FIDELITY_STEMS)))
def test_fidelity_all_available(real_shared, derived, stem):
    _check(real_shared, derived, stem)


@pytest.mark.parametrize("stride", [2, 4])
def test_strided_map_keeps_grid_values_on_their_pixels(synthetic_pair, monkeypatch, stride):
    """With stride s the layers are computed on pixels 0, s, 2s, ...; the full-size map must hold the grid's
    values on exactly those pixels (a centre-aligned resize moved them by (s - 1) / 2 px)."""
    import dbdbench.resize

    img, _ = synthetic_pair
    seen = {}

    def spy(arr, shape, *args, **kw):
        seen["grid"] = np.array(arr)
        return dbdbench.resize.resize(arr, shape, *args, **kw)

    monkeypatch.setattr(hifst, "resize", spy)
    out = hifst.hifst_map(img, stride=stride)
    assert out.shape == img.shape[:2]
    np.testing.assert_allclose(out[::stride, ::stride], np.clip(seen["grid"], 0, 1), atol=1e-6)


@pytest.mark.parametrize("width,k", [(2660, 117), (2663, 117), (700, 117), (300, 117), (50, 7), (117, 117)])
def test_smallest_sorted_equals_partition_then_sort(width, k):
    """The block-wise selection returns exactly the values of the one-line partition + sort, ties included."""
    rng = np.random.default_rng(width)
    values = rng.random((40, width)).astype(np.float32)
    values[::3] = np.round(values[::3] * 20) / 20  # rows with many ties
    values[5] = 0.0  # a flat patch: every coefficient zero
    ref = np.sort(np.partition(values, k - 1, axis=1)[:, :k], axis=1)
    got = hifst.smallest_sorted(values.copy(), k)
    assert got.dtype == values.dtype
    np.testing.assert_array_equal(got, ref)
