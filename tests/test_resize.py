"""The one resize helper: where pixels land (centre-aligned for maps, on-sample for strided grids)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dbdbench.resize import resize, resize_pillow_8bit, sample_grid


@pytest.mark.parametrize("shape", [(80, 100), (20, 30), (37, 106), (13, 53)])
@pytest.mark.parametrize(
    "method,pil",
    [
        ("bilinear", Image.Resampling.BILINEAR),
        ("bicubic", Image.Resampling.BICUBIC),
        ("nearest", Image.Resampling.NEAREST),
    ],
)
def test_same_kernels_and_alignment_as_pillow_away_from_the_border(shape, method, pil):
    # Pillow and imresize share the centre-aligned geometry and the antialiased kernels; only the boundary
    # rule differs (Pillow renormalises, imresize mirrors), so the interiors agree.
    a = np.random.default_rng(0).random((37, 53)).astype(np.float32)
    ours = resize(a, shape, method)
    theirs = np.asarray(Image.fromarray(a, mode="F").resize(shape[::-1], pil), dtype=np.float64)
    assert ours.shape == shape and ours.dtype == np.float64
    np.testing.assert_allclose(ours[3:-3, 3:-3], theirs[3:-3, 3:-3], atol=1e-6)
    if method == "nearest":
        np.testing.assert_array_equal(ours, theirs)


def test_enlarging_a_ramp_keeps_pixel_centres():
    # x-coordinate of pixel centres: 2x enlargement of [0, 1, 2, 3] (centres at 0.5, 1.5, ...) gives
    # centres at 0.25, 0.75, ... in input pixel units, i.e. values -0.25, 0.25, 0.75, ... clamped at the ends.
    a = np.tile(np.arange(4, dtype=float), (3, 1))
    out = resize(a, (3, 8), "bilinear")
    np.testing.assert_allclose(out[0], [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])


def test_identity_and_constant():
    a = np.random.default_rng(1).random((5, 7))
    np.testing.assert_array_equal(resize(a, a.shape, "bicubic"), a)
    np.testing.assert_allclose(resize(np.full((9, 11), 0.3), (20, 4), "bicubic"), 0.3, atol=1e-12)


@pytest.mark.parametrize("stride", [2, 3, 4])
def test_strided_grid_is_interpolated_where_its_samples_are(stride):
    # A feature computed on pixels 0, s, 2s, ... of a linear ramp comes back as the ramp: no shift.
    h, w = 23, 37
    ramp = np.add.outer(np.arange(h) * 2.0, np.arange(w) * 1.0)
    grid = ramp[::stride, ::stride]
    out = resize(grid, (h, w), stride=stride)
    last_y, last_x = (grid.shape[0] - 1) * stride, (grid.shape[1] - 1) * stride
    np.testing.assert_allclose(out[: last_y + 1, : last_x + 1], ramp[: last_y + 1, : last_x + 1], atol=1e-12)
    np.testing.assert_array_equal(sample_grid(ramp, stride, antialias=False), grid)
    # the centre-aligned rule would have moved it by (stride - 1) / 2 pixels
    centred = resize(grid, (h, w), "bilinear", antialias=False)
    assert np.abs(centred[5:-5, 5:-5] - ramp[5:-5, 5:-5]).max() > 0.4


def test_pillow_8bit_rule_is_pillows_default():
    a = np.random.default_rng(2).integers(0, 256, (45, 61)).astype(np.uint8)
    out = resize_pillow_8bit(a, (320, 320))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.asarray(Image.fromarray(a).resize((320, 320))))
    with pytest.raises(ValueError):
        resize_pillow_8bit(a.astype(float), (10, 10))
