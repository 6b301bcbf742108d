"""Training images held in memory, with the random crops and augmentations learned methods share.

Decoding PNG/JPEG is slower than a training step on this CPU, so every image is decoded once (in
threads) and kept as uint8. All randomness of a sample comes from ``numpy.random.default_rng((seed,
epoch, index))``: the batch of a step is a pure function of the step, which is what makes resume exact.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dbdbench.errors import DbdbenchError
from dbdbench.io import read_gray, read_rgb


@dataclass(frozen=True)
class Augment:
    """Which augmentations to apply; defaults follow the paper (flips, rotations) plus a real-photo gap
    closer: JPEG re-compression, sensor noise and mild colour/exposure changes."""

    flips: bool = True
    rotations: bool = True
    jpeg_p: float = 0.5
    jpeg_quality: tuple[int, int] = (55, 95)
    noise_p: float = 0.5
    noise_sigma: tuple[float, float] = (0.5, 4.0)  # on the 0..255 scale
    colour_p: float = 0.5

    @classmethod
    def none(cls) -> Augment:
        return cls(flips=False, rotations=False, jpeg_p=0.0, noise_p=0.0, colour_p=0.0)


def load_images(paths: list[Path], workers: int = 4) -> list[np.ndarray]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(read_rgb, paths))


def load_focus_masks(paths: list[Path], polarity: str, workers: int = 4) -> list[np.ndarray]:
    """GT as uint8 0/1 with 1 = in focus, whatever the dataset's polarity."""

    def one(path: Path) -> np.ndarray:
        g = read_gray(path)
        focus = g > 127 if polarity == "focus" else g <= 127
        return focus.astype(np.uint8)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, paths))


def sample_rng(seed: int, epoch: int, index: int, salt: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, epoch, index, salt])


def random_crop(rng: np.random.Generator, arrays: list[np.ndarray], size: int) -> list[np.ndarray]:
    """The same random ``size`` x ``size`` window of every array (reflect-padded when an image is smaller)."""
    h, w = arrays[0].shape[:2]
    if h < size or w < size:
        ph, pw = max(0, size - h), max(0, size - w)
        arrays = [np.pad(a, ((0, ph), (0, pw)) + ((0, 0),) * (a.ndim - 2), mode="reflect") for a in arrays]
        h, w = arrays[0].shape[:2]
    y = int(rng.integers(0, h - size + 1))
    x = int(rng.integers(0, w - size + 1))
    return [a[y : y + size, x : x + size] for a in arrays]


def geometric(rng: np.random.Generator, arrays: list[np.ndarray], aug: Augment) -> list[np.ndarray]:
    """Mirror and rotate by multiples of 90 degrees: the blur of a patch does not depend on its orientation."""
    if aug.flips and rng.random() < 0.5:
        arrays = [a[:, ::-1] for a in arrays]
    if aug.rotations:
        k = int(rng.integers(0, 4))
        if k:
            arrays = [np.rot90(a, k) for a in arrays]
    return [np.ascontiguousarray(a) for a in arrays]


def photometric(rng: np.random.Generator, image: np.ndarray, aug: Augment) -> np.ndarray:
    """Colour/exposure jitter, sensor noise and JPEG re-compression: what real photos have and renders lack."""
    out = image
    if aug.colour_p and rng.random() < aug.colour_p:
        f = out.astype(np.float32)
        gain = rng.uniform(0.8, 1.2) * rng.uniform(0.93, 1.07, size=3)
        mean = f.mean(axis=(0, 1), keepdims=True)
        contrast = rng.uniform(0.8, 1.2)
        f = (f - mean) * contrast + mean
        f = f * gain.astype(np.float32)
        out = np.clip(f, 0, 255).astype(np.uint8)
    if aug.noise_p and rng.random() < aug.noise_p:
        sigma = rng.uniform(*aug.noise_sigma)
        noise = rng.normal(0.0, sigma, size=out.shape).astype(np.float32)
        out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if aug.jpeg_p and rng.random() < aug.jpeg_p:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(out).save(buf, format="JPEG", quality=int(rng.integers(*aug.jpeg_quality)))
        out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out


def to_tensor_batch(images: list[np.ndarray]):
    """uint8 H x W x 3 list -> float32 B x 3 x H x W in [0, 1]."""
    import torch

    arr = np.stack(images).astype(np.float32) / 255.0
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()


def to_mask_batch(masks: list[np.ndarray]):
    import torch

    return torch.from_numpy(np.stack(masks).astype(np.float32))[:, None]


def require_gt(samples) -> None:
    missing = [s for s in samples if s.image is None]
    if missing:
        raise DbdbenchError(f"{missing[0].gt}: ground truth has no matching image; training needs image/GT pairs")
