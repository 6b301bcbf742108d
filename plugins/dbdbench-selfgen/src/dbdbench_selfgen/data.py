"""The three image pools selfgen trains on, by *image path only*: no ground-truth file is ever opened.

* sources T: the images of the ``--dataset`` adapter's split (``Sample.image``; ``Sample.gt`` is never touched)
  or, with ``--option sources=DIR``, any folder of unlabelled photos;
* full-clear pool I_c: the ``synth`` ``fc`` split, or ``--option clear=DIR`` (a folder of sharp photos);
* full-blurred pool I_b: the ``synth`` ``fb`` split, or ``--option blurred=DIR`` (a folder of blurred photos).

A test replaces every image reader with one that fails on GT paths and runs training steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dbdbench.errors import DbdbenchError


def folder_images(folder: str | Path, what: str) -> list[Path]:
    from dbdbench.datasets.base import files_by_stem

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DbdbenchError(f"selfgen: {what}={folder}: not a directory")
    paths = [p for p in files_by_stem(folder).values() if p.is_file()]
    if not paths:
        raise DbdbenchError(f"selfgen: {what}={folder}: no images (.png, .jpg, .bmp, ...) found")
    return paths


def dataset_images(dataset) -> list[Path]:
    """The image paths of an adapter's listing, plus its orphan images (no GT needed); GT paths are ignored."""
    listing = dataset.list()
    paths = [s.image for s in listing.samples if s.image is not None] + list(listing.orphan_images)
    if not paths:
        raise DbdbenchError(f"selfgen: dataset {dataset.name!r} split {dataset.split!r} has no images")
    return paths


def synth_images(split: str, n: int, size: int) -> list[Path]:
    """Images of a ``synth`` split (generated into the cache on first use)."""
    from dbdbench.api import open_dataset

    return dataset_images(open_dataset("synth", split=split, options={"n": n, "size": size}))


def pool(spec: str, default_split: str, n: int, size: int, what: str) -> list[Path]:
    """``""`` -> the synth split; ``synth:<split>`` -> that split; anything else -> a folder."""
    if not spec:
        return synth_images(default_split, n, size)
    if spec.startswith("synth:"):
        return synth_images(spec.split(":", 1)[1], n, size)
    return folder_images(spec, what)


def load(paths: list[Path], limit: int = 0, resize: int = 0) -> list[np.ndarray]:
    """The first ``limit`` images (0: all), each resized whole to ``resize`` x ``resize`` when ``resize`` > 0.

    Whole resized images are the authors' setting (256 x 256). They also keep stage 1's "mixed" label clean:
    a crop of a partially blurred photo can be all sharp or all blurred, the whole photo cannot.
    """
    from dbdbench_torch.data import load_images

    if limit and len(paths) > limit:
        paths = paths[:limit]
    images = load_images(paths)
    return [_resized(image, resize) for image in images] if resize else images


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    """Antialiased bicubic resize of an RGB uint8 image to ``size`` x ``size`` (aspect not kept, as the authors)."""
    from PIL import Image

    if image.shape[:2] == (size, size):
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))
