"""HiFST: Golestaneh & Karam, "Spatially-varying blur detection based on multiscale
fused and sorted transform coefficients of gradient magnitudes", CVPR 2017.

A vectorised re-implementation that follows the authors' MATLAB code
(github.com/isalirezag/HiFST, ``HiFST.m``) step by step:

1. ``imgaussfilt(img, 0.5)`` on the uint8 RGB photo (3x3 kernel, replicate
   padding, rounded back to uint8), then ``rgb2gray`` (rounded to uint8).
2. Gradient magnitude ``imgradient`` (Sobel, replicate padding) of the gray image.
3. Zero padding by ``floor(63/2) = 31``; for every pixel the ``M x M`` patches
   (M = 7, 15, 31, 63) centred on it, their orthonormal 2-D DCT (``dctmtx``),
   absolute values of the *high-frequency* coefficients: the entries with
   ``u + v >= M - 1`` (0-based; the lower-right triangle including the
   anti-diagonal, ``M (M + 1) / 2`` per scale, 2660 in all).
4. All 2660 values of a pixel sorted ascending and the smallest
   ``7 + 15 + 31 + 63 + 1 = 117`` kept as layers ``L_1 .. L_117``.
5. Each layer normalised by ``mat2gray`` over the image, max-pooled over layers: ``T``.
6. ``D = entropyfilt(mat2gray(T), true(7)) .* mat2gray(T)`` (256-bin local
   entropy of ``im2uint8(mat2gray(T))`` over 7x7, symmetric padding).
7. Domain-transform recursive filter (Gastal & Oliveira 2011), sigma_s = 15,
   sigma_r = 0.25, 3 iterations, joint image = ``mat2gray(gray)`` smoothed by a
   3x3 Gaussian (sigma 1, zero padding, as ``imfilter`` does by default).
8. ``mat2gray`` of the result: 1 = sharp.

How it is fast: the DCT coefficient (u, v) of the patch around every pixel is
a separable correlation of the gradient image with the DCT basis vectors. The
horizontal pass (all v) is one matrix product on sliding rows; the vertical
pass uses the even/odd symmetry of the DCT basis (``d_u[M-1-k] = (-1)^u d_u[k]``)
to fold each window in half before a BLAS matrix product that writes every
pixel's coefficients contiguously, so the per-pixel selection of the 117
smallest values is a row-wise selection (``smallest_sorted``: partitions of
short blocks, then of the blocks' candidates). Rows are processed in chunks
so the peak memory stays at a few hundred MB for any image size.

``stride > 1`` computes the sorted-coefficient layers only on every
``stride``-th pixel (the MATLAB ``Slid`` argument), runs the entropy and RF
steps on that grid and interpolates the map back bilinearly from the pixels
the grid samples (``dbdbench.resize``, so the map is not shifted): roughly
``stride^2`` times faster, lower fidelity (see docs/baselines.md for measured
figures).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from dbdbench.methods import Method
from dbdbench.resize import resize, sample_grid

from ._common import RGB2GRAY_MATLAB, check_image, mat2gray, matlab_round

SCALES = (7, 15, 31, 63)


def dct_matrix(n: int) -> np.ndarray:
    """MATLAB ``dctmtx(n)``: orthonormal DCT-II matrix, rows are basis vectors."""
    k = np.arange(n)
    d = np.sqrt(2.0 / n) * np.cos(np.pi * np.outer(k, 2 * k + 1) / (2 * n))
    d[0] /= np.sqrt(2.0)
    return d


def high_freq_mask(m: int) -> np.ndarray:
    """The coefficients ``FreqBands`` labels 0 in HiFST.m: ``u + v >= m - 1`` (0-based)."""
    idx = np.arange(m)
    return np.add.outer(idx, idx) >= m - 1


# ----------------------------------------------------------------------------- preprocessing


def _gauss_kernel(size: int, sigma: float) -> np.ndarray:
    r = (size - 1) / 2
    x = np.arange(-r, r + 1)
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def preprocess(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (gray uint8 as float64, gradient magnitude float64) as HiFST.m computes them."""
    image = check_image(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    x = image.astype(np.float64)
    g = _gauss_kernel(3, 0.5)  # imgaussfilt(I, 0.5): 2*ceil(2*0.5)+1 = 3 taps, replicate
    x = ndimage.correlate1d(x, g, axis=0, mode="nearest")
    x = ndimage.correlate1d(x, g, axis=1, mode="nearest")
    x = np.clip(matlab_round(x), 0, 255)  # back to uint8
    if x.ndim == 3:
        x = np.clip(matlab_round(x @ RGB2GRAY_MATLAB), 0, 255)  # rgb2gray on uint8
    gray = x
    # imgradient(double(gray)): Sobel, imfilter(..., 'replicate')
    sob = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    gx = ndimage.correlate(gray, sob, mode="nearest")
    gy = ndimage.correlate(gray, sob.T, mode="nearest")
    return gray, np.hypot(gx, gy)


# ----------------------------------------------------------------------------- layers


def sorted_layers(
    grad: np.ndarray,
    scales: tuple[int, ...] = SCALES,
    n_layers: int | None = None,
    stride: int = 1,
    chunk_rows: int = 8,
    workers: int | None = None,
    dtype=np.float32,
) -> np.ndarray:
    """The ``n_layers`` smallest |high-frequency DCT coefficients| per pixel, sorted ascending.

    Returns ``(Hc, Wc, n_layers)`` with ``Hc = ceil(H / stride)``. Chunks of
    ``chunk_rows`` output rows are processed by ``workers`` threads (numpy and
    BLAS release the GIL), each with BLAS limited to one thread.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    h_img, w_img = grad.shape
    mmax = max(scales)
    pad = mmax // 2
    if n_layers is None:
        n_layers = sum(scales) + 1
    gp = np.pad(grad.astype(dtype), pad, mode="constant")  # padarray: zeros
    ys = np.arange(0, h_img, stride)
    xs = np.arange(0, w_img, stride)
    hc, wc = len(ys), len(xs)
    n_coef = sum(m * (m + 1) // 2 for m in scales)
    if n_layers > n_coef:
        raise ValueError(f"n_layers={n_layers} exceeds the {n_coef} high-frequency coefficients")
    if workers is None:
        workers = max(1, min(os.cpu_count() or 1, 8))
    isz = np.dtype(dtype).itemsize

    with threadpool_limits(limits=1, user_api="blas"):
        # Horizontal pass, once per scale: h1[m][v, row, j] = sum_k D[v, k] gp[row, xs[j] + o + k]
        # for every padded row (the vertical pass picks its windows from these rows).
        # Folded like the vertical pass: even v use a_k + a_{m-1-k}, odd v use a_k - a_{m-1-k}.
        def horizontal(m: int) -> np.ndarray:
            half = m // 2
            o = pad - half
            d = dct_matrix(m)
            rows = gp.shape[0]
            span = (wc - 1) * stride + 1
            fe = np.empty((half + 1, rows, wc), dtype=dtype)
            fo = np.empty((half, rows, wc), dtype=dtype)
            for k in range(half):
                a = gp[:, o + k : o + k + span : stride]
                b = gp[:, o + m - 1 - k : o + m - 1 - k + span : stride]
                np.add(a, b, out=fe[k])
                np.subtract(a, b, out=fo[k])
            fe[half] = gp[:, o + half : o + half + span : stride]
            res = np.empty((m, rows * wc), dtype=dtype)
            ev = np.arange(0, m, 2)
            od = np.arange(1, m, 2)
            np.matmul(d[ev][:, : half + 1].astype(dtype), fe.reshape(half + 1, -1), out=res[ev[0] : m : 2])
            np.matmul(d[od][:, :half].astype(dtype), fo.reshape(half, -1), out=res[od[0] : m : 2])
            return res.reshape(m, rows, wc)

        if workers > 1 and len(scales) > 1:
            with ThreadPoolExecutor(max_workers=workers) as ex:
                h1 = dict(zip(scales, ex.map(horizontal, scales)))
        else:
            h1 = {m: horizontal(m) for m in scales}

        # Vertical-pass matrices per scale and v: the even and odd u among u >= m-1-v.
        # Even u: sum_{k<half} d[u,k] (a_k + a_{m-1-k}) + d[u,half] a_half ; odd u:
        # sum_{k<half} d[u,k] (a_k - a_{m-1-k})   (d[u, m-1-k] = (-1)^u d[u, k]).
        plans = {}
        for m in scales:
            d = dct_matrix(m)
            half = m // 2
            per_v = []
            for v in range(m):
                u = np.arange(m - 1 - v, m)
                de = np.ascontiguousarray(d[u[u % 2 == 0]][:, : half + 1].T.astype(dtype))
                do = np.ascontiguousarray(d[u[u % 2 == 1]][:, :half].T.astype(dtype))
                per_v.append((de, do))
            plans[m] = per_v

        out = np.empty((hc, wc, n_layers), dtype=dtype)
        rows_per_chunk = max(1, int(chunk_rows))
        chunks = [(c0, min(hc, c0 + rows_per_chunk)) for c0 in range(0, hc, rows_per_chunk)]

        import threading

        local = threading.local()

        def buffers(rc: int):
            key = rc
            bufs = getattr(local, "bufs", None)
            if bufs is None or bufs[0] != key:
                npix = rc * wc
                big = np.empty((npix, n_coef), dtype=dtype)
                folded = np.empty((mmax // 2 + 1, npix), dtype=dtype)
                scratch = np.empty((npix, FLUSH_WIDTH + mmax // 2 + 1), dtype=dtype)
                local.bufs = bufs = (key, big, folded, scratch)
            return bufs[1:]

        def work(c0: int, c1: int) -> None:
            rc = c1 - c0
            npix = rc * wc
            big, folded, scratch = buffers(rc)
            col = 0
            fill = 0

            def emit(rows: np.ndarray, d: np.ndarray) -> None:
                # BLAS into a narrow scratch; its |values| go to ``big`` FLUSH_WIDTH columns or more at a
                # time: a strided copy of 32-column pieces into ``big``'s wide rows cost 2.5x more.
                nonlocal fill
                n = d.shape[1]
                np.matmul(rows.T, d, out=scratch[:, fill : fill + n])
                fill += n
                if fill >= FLUSH_WIDTH:
                    flush()

            def flush() -> None:
                nonlocal col, fill
                np.abs(scratch[:, :fill], out=big[:, col : col + fill])
                col += fill
                fill = 0

            for m in scales:
                half = m // 2
                o = pad - half
                hm = h1[m]
                vs, rs = hm.strides[0], hm.strides[1]
                y0 = int(ys[c0]) + o  # padded row of the first window's top
                shape = (m, half, rc, wc)
                top = np.lib.stride_tricks.as_strided(hm[:, y0:], shape=shape, strides=(vs, rs, rs * stride, isz))
                bot = np.lib.stride_tricks.as_strided(
                    hm[:, y0 + m - 1 :], shape=shape, strides=(vs, -rs, rs * stride, isz)
                )
                centre = hm[:, y0 + half : y0 + half + (rc - 1) * stride + 1 : stride]
                # Folded one v at a time: the folded rows (<= 32 x npix) stay in cache for the products.
                even = folded[: half + 1]
                odd = folded[:half]
                for v in range(m):
                    de, do = plans[m][v]
                    if de.shape[1]:
                        np.add(top[v], bot[v], out=even[:half].reshape(half, rc, wc))
                        even[half] = centre[v].reshape(npix)
                        emit(even, de)
                    if do.shape[1]:
                        np.subtract(top[v], bot[v], out=odd.reshape(half, rc, wc))
                        emit(odd, do)
            flush()
            out[c0:c1] = smallest_sorted(big, n_layers).reshape(rc, wc, n_layers)

        if workers == 1 or len(chunks) == 1:
            for c0, c1 in chunks:
                work(c0, c1)
        else:
            with ThreadPoolExecutor(max_workers=workers) as ex:
                for f in [ex.submit(work, c0, c1) for c0, c1 in chunks]:
                    f.result()
    return out


#: Columns of coefficients gathered before they are copied (as magnitudes) into the per-pixel rows.
FLUSH_WIDTH = 64

#: Row width per block in ``smallest_sorted``, as a multiple of k. numpy's partition costs about 6 ns per
#: value on rows of 2660 but about 2 ns on rows of a few hundred (measured on this project's CPU, numpy 2.3);
#: 3.25 k (380 for HiFST's 117 of 2660) was the fastest width tried (150 to 665).
BLOCK_WIDTH_PER_K = 3.25


def smallest_sorted(values: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` smallest values of each row, ascending: exactly ``np.sort(np.partition(values, k - 1, axis=1)[:, :k])``.

    Why not that one-liner: on HiFST's rows (2660 coefficients, k = 117) the partition was half of the
    method's run time. The k smallest of a row are among the k smallest of each of its blocks, so each
    block of about ``3.25 k`` values is partitioned (cheap, short rows), the blocks' k smallest are
    gathered with the columns no block covers, and only those candidates are partitioned as whole rows:
    the same values, about a third less time. ``values`` is reordered in place.
    """
    n, width = values.shape
    n_blocks = int(width // (BLOCK_WIDTH_PER_K * k))
    if n_blocks < 2:
        values.partition(k - 1, axis=1)
        return np.sort(values[:, :k], axis=1)
    block = width // n_blocks
    covered = n_blocks * block
    blocks = values[:, :covered].reshape(n, n_blocks, block)
    blocks.partition(k - 1, axis=2)
    candidates = np.empty((n, n_blocks * k + width - covered), dtype=values.dtype)
    candidates[:, : n_blocks * k].reshape(n, n_blocks, k)[:] = blocks[:, :, :k]
    candidates[:, n_blocks * k :] = values[:, covered:]
    candidates.partition(k - 1, axis=1)
    return np.sort(candidates[:, :k], axis=1)


# ----------------------------------------------------------------------------- post-processing


def local_entropy(img01: np.ndarray, size: int = 7) -> np.ndarray:
    """MATLAB ``entropyfilt(I, true(size))`` for a double image in [0, 1]."""
    from skimage.filters.rank import entropy

    u8 = np.clip(matlab_round(img01 * 255.0), 0, 255).astype(np.uint8)  # im2uint8
    r = size // 2
    padded = np.pad(u8, r, mode="symmetric")
    fp = np.ones((size, size), dtype=bool)
    e = entropy(padded, fp)  # base 2, 256 bins
    return e[r:-r, r:-r].astype(np.float64)


def _recursive_filter_rows(f: np.ndarray, dfdx: np.ndarray, sigma: float) -> np.ndarray:
    """One horizontal pass of the domain-transform recursive filter (in place on ``f``)."""
    a = np.exp(-np.sqrt(2.0) / sigma)
    v = a**dfdx
    w = f.shape[1]
    for i in range(1, w):
        f[:, i] += v[:, i] * (f[:, i - 1] - f[:, i])
    for i in range(w - 2, -1, -1):
        f[:, i] += v[:, i + 1] * (f[:, i + 1] - f[:, i])
    return f


def rf_filter(img: np.ndarray, sigma_s: float, sigma_r: float, iterations: int, joint: np.ndarray) -> np.ndarray:
    """Domain-transform recursive edge-preserving filter (Gastal & Oliveira, SIGGRAPH 2011)."""
    f = np.array(img, dtype=np.float64, copy=True)
    j = np.asarray(joint, dtype=np.float64)
    h, w = j.shape
    didx = np.zeros((h, w))
    didy = np.zeros((h, w))
    didx[:, 1:] = np.abs(np.diff(j, axis=1))
    didy[1:, :] = np.abs(np.diff(j, axis=0))
    dhdx = 1.0 + sigma_s / sigma_r * didx
    dvdy = np.ascontiguousarray((1.0 + sigma_s / sigma_r * didy).T)
    n = iterations
    for i in range(n):
        sigma_i = sigma_s * np.sqrt(3.0) * 2.0 ** (n - (i + 1)) / np.sqrt(4.0**n - 1.0)
        f = _recursive_filter_rows(f, dhdx, sigma_i)
        f = np.ascontiguousarray(f.T)
        f = _recursive_filter_rows(f, dvdy, sigma_i)
        f = np.ascontiguousarray(f.T)
    return f


def hifst_map(
    image: np.ndarray,
    stride: int = 1,
    scales: tuple[int, ...] = SCALES,
    entropy_window: int = 7,
    sigma_s: float = 15.0,
    sigma_r: float = 0.25,
    rf_iterations: int = 3,
    chunk_rows: int = 8,
    workers: int | None = None,
) -> np.ndarray:
    """The HiFST focus map of an RGB (or gray) uint8 image: float32, [0, 1], 1 = sharp."""
    gray, grad = preprocess(image)
    h, w = gray.shape
    stride = max(1, int(stride))
    layers = sorted_layers(grad, scales=scales, stride=stride, chunk_rows=chunk_rows, workers=workers)
    # per-layer mat2gray, then max pooling over layers
    lo = layers.min(axis=(0, 1))
    hi = layers.max(axis=(0, 1))
    scale = np.where(hi > lo, hi - lo, 1.0).astype(layers.dtype)
    layers -= lo  # in place: the layer stack is ~130 MB for a 640x427 photo; no temporaries
    layers /= scale
    t = layers.max(axis=2).astype(np.float64)
    del layers
    tn = mat2gray(t)
    d = local_entropy(tn, entropy_window) * tn
    g01 = mat2gray(gray)
    if d.shape != g01.shape:
        # the joint image at the grid's own pixels (0, stride, 2*stride, ...), low-passed first
        g01 = sample_grid(g01, stride)
    joint = ndimage.correlate(g01, np.outer(_gauss_kernel(3, 1.0), _gauss_kernel(3, 1.0)), mode="constant")
    final = rf_filter(d, sigma_s, sigma_r, rf_iterations, joint)
    final = mat2gray(final)
    if final.shape != (h, w):
        # grid sample (i, j) sits on pixel (i*stride, j*stride): interpolate from there, not centre-aligned
        final = resize(final, (h, w), stride=stride)
    return np.clip(final, 0.0, 1.0).astype(np.float32)


class HiFST(Method):
    id = "hifst"
    name = "HiFST"
    paper = (
        "S. A. Golestaneh and L. J. Karam, Spatially-Varying Blur Detection Based on Multiscale "
        "Fused and Sorted Transform Coefficients of Gradient Magnitudes, CVPR 2017"
    )
    year = 2017
    kind = "handcrafted"
    description = (
        "Sorted high-frequency DCT coefficients of the gradient magnitude at scales 7/15/31/63, "
        "per-layer normalised and max-pooled, weighted by local entropy, smoothed by the "
        "domain-transform recursive filter. Faithful to the authors' MATLAB code (stride=1)."
    )
    options = {"stride": 1, "sigma_s": 15.0, "sigma_r": 0.25, "rf_iterations": 3, "workers": 0, "chunk_rows": 8}
    #: 2: with stride > 1 the grid is resampled where its samples are (version 1 shifted maps by (stride - 1) / 2 px).
    version = "2"

    def predict(self, image: np.ndarray) -> np.ndarray:
        c = self.config
        return hifst_map(
            image,
            stride=int(c["stride"]),
            sigma_s=float(c["sigma_s"]),
            sigma_r=float(c["sigma_r"]),
            rf_iterations=int(c["rf_iterations"]),
            workers=int(c["workers"]) or None,
            chunk_rows=int(c["chunk_rows"]),
        )
