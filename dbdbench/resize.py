"""Resizing maps: the one place where pixel-grid alignment is decided.

Two geometries occur, and mixing them up shifts a map by a pixel or more:

* **Same area, other resolution** (:func:`resize`): a map and a GT of
  different sizes cover the same picture. Pixel *centres* are aligned: output
  pixel ``x`` (0-based) reads input coordinate ``(x + 0.5) / scale - 0.5``.
  This is MATLAB's ``imresize`` (and Pillow's, OpenCV's ``INTER_AREA``, and
  scikit-image's) convention. Kernels are widened by ``1 / scale`` when
  shrinking (antialiasing), and the boundary is mirrored as ``imresize`` does,
  so ``resize(x, shape, "bicubic")`` equals MATLAB's ``imresize(x, shape)``
  on double data.
* **A strided grid** (:func:`resize` with ``stride``; :func:`sample_grid`):
  a feature computed on every ``stride``-th pixel, sample ``(i, j)`` sitting
  *on* pixel ``(i * stride, j * stride)``. Resizing such a grid with the
  centre-aligned rule would move it by ``(stride - 1) / 2`` pixels, so it is
  interpolated from where its samples really are.

Python evaluation scripts that call Pillow's ``Image.resize(size)`` on an
8-bit map get its default filter with 8-bit rounding; :func:`resize_pillow_8bit`
does exactly that, for protocols that reproduce such scripts.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

METHODS = ("nearest", "bilinear", "bicubic")


def _nearest(x):
    return ((x >= -0.5) & (x < 0.5)).astype(np.float64)


def _triangle(x):
    return np.maximum(1.0 - np.abs(x), 0.0)


def _cubic(x):
    # Keys' cubic with a = -0.5, as imresize (and Pillow's BICUBIC).
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * (
        (ax > 1) & (ax <= 2)
    )


_KERNELS = {"nearest": (_nearest, 1.0), "bilinear": (_triangle, 2.0), "bicubic": (_cubic, 4.0)}


@lru_cache(maxsize=64)
def _weights(in_len: int, out_len: int, method: str, antialias: bool):
    """Sparse (out_len x in_len) interpolation matrix along one axis (imresize's ``contributions``)."""
    from scipy import sparse

    kernel, width = _KERNELS[method]
    scale = out_len / in_len
    if scale < 1 and antialias and method != "nearest":
        base = kernel

        def kernel(x, base=base, scale=scale):
            return scale * base(scale * x)

        width = width / scale
    x = np.arange(out_len, dtype=np.float64)
    u = (x + 0.5) / scale - 0.5  # 0-based input coordinate of each output pixel centre
    left = np.floor(u - width / 2)
    taps = int(np.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    w = kernel(u[:, None] - idx)
    w = w / w.sum(axis=1, keepdims=True)
    # mirror the boundary: ..., 1, 0 | 0, 1, ..., n-1 | n-1, n-2, ...
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len)[::-1]])
    idx = mirror[np.mod(idx, 2 * in_len).astype(np.int64)]
    rows = np.repeat(np.arange(out_len), taps)
    return sparse.csr_matrix((w.ravel(), (rows, idx.ravel())), shape=(out_len, in_len))  # duplicates are summed


def resize(
    arr: np.ndarray,
    shape: tuple[int, int],
    method: str = "bilinear",
    *,
    antialias: bool = True,
    stride: int | None = None,
) -> np.ndarray:
    """Resize a 2-D array to ``shape`` = (H, W); float64 out, no rounding, no clipping.

    Without ``stride``: centre-aligned, ``method`` one of ``nearest``, ``bilinear``,
    ``bicubic``, antialiased when shrinking (``nearest`` never is), mirrored
    boundary: MATLAB ``imresize`` semantics.

    With ``stride``: ``arr`` holds samples taken at pixels ``0, stride, 2*stride, ...``
    of the output; bilinear interpolation between them, values held beyond the
    last sample (``method`` must be ``bilinear``).
    """
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise ValueError(f"resize expects a 2-D array, got shape {arr.shape}")
    h, w = int(shape[0]), int(shape[1])
    if stride is not None:
        if method != "bilinear":
            raise ValueError("a strided grid is interpolated bilinearly")
        return _upsample_grid(arr, (h, w), int(stride))
    if method not in _KERNELS:
        raise ValueError(f"resize method {method!r}: expected one of {', '.join(METHODS)}")
    out = np.asarray(arr, dtype=np.float64)
    if out.shape == (h, w):
        return out.copy()
    # imresize order: the axis that shrinks most first
    axes = sorted((0, 1), key=lambda a: (h, w)[a] / out.shape[a])
    for axis in axes:
        target = (h, w)[axis]
        if out.shape[axis] == target:
            continue
        m = _weights(out.shape[axis], target, method, antialias)
        out = np.asarray(m @ out) if axis == 0 else np.asarray(m @ out.T).T
    return np.ascontiguousarray(out)


def _upsample_grid(grid: np.ndarray, shape: tuple[int, int], stride: int) -> np.ndarray:
    from scipy import ndimage

    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    gh, gw = grid.shape
    if (gh, gw) == shape and stride == 1:
        return np.asarray(grid).copy()
    yy = np.minimum(np.arange(shape[0]) / stride, gh - 1)
    xx = np.minimum(np.arange(shape[1]) / stride, gw - 1)
    return ndimage.map_coordinates(grid, np.meshgrid(yy, xx, indexing="ij"), order=1, mode="nearest")


def sample_grid(arr: np.ndarray, stride: int, *, antialias: bool = True) -> np.ndarray:
    """The values at pixels ``0, stride, 2*stride, ...`` of ``arr`` (the grid :func:`resize` with ``stride``
    expects), low-pass filtered first when ``antialias`` (Gaussian, sigma = (stride - 1) / 2)."""
    from scipy import ndimage

    arr = np.asarray(arr, dtype=np.float64)
    if stride <= 1:
        return arr.copy()
    if antialias:
        arr = ndimage.gaussian_filter(arr, sigma=(stride - 1) / 2.0, mode="mirror")
    return np.ascontiguousarray(arr[::stride, ::stride])


def resize_pillow_8bit(arr_u8: np.ndarray, shape: tuple[int, int], *, nearest: bool = False) -> np.ndarray:
    """``Image.fromarray(arr).resize((W, H))`` on an 8-bit map: Pillow's default filter (bicubic for
    8-bit grayscale since Pillow 7), computed and rounded in 8 bits; ``nearest``: ``Image.NEAREST`` (as
    test loaders resize masks). Returns uint8."""
    from PIL import Image

    arr_u8 = np.asarray(arr_u8)
    if arr_u8.dtype != np.uint8:
        raise ValueError("resize_pillow_8bit expects an 8-bit map")
    img = Image.fromarray(np.ascontiguousarray(arr_u8), mode="L")
    size = (int(shape[1]), int(shape[0]))
    return np.asarray(img.resize(size, Image.Resampling.NEAREST) if nearest else img.resize(size))
