"""The ``synth`` dataset adapter: the embedded default, generated on first use into the cache.

Cheap to import (only the constants); rendering code is imported when a split
is actually listed. ``--root DIR`` either points at a split written by
``dbdbench synth --out DIR`` (it has a manifest) or names a cache root to
generate into instead of ``$DBDBENCH_CACHE``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from ...errors import DatasetError
from ..base import Dataset, Listing, Polarity, Sample
from . import params


def _int_option(options: dict[str, Any], key: str, default: int) -> int:
    value = options.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DatasetError(f"dataset 'synth': option {key}={value!r} is not an integer") from None


class SynthDataset(Dataset):
    """Deterministic layered dead-leaves scenes with thin-lens defocus (see docs/synth.md)."""

    name: ClassVar[str] = "synth"
    title: ClassVar[str] = "Synthetic layered defocus (embedded, generated on first use)"
    gt_polarity: Polarity = "focus"
    splits: ClassVar[tuple[str, ...]] = params.SPLITS
    default_split: ClassVar[str] = params.DEFAULT_SPLIT
    source: ClassVar[str] = "generated locally by dbdbench (no download); 'dbdbench synth' writes it explicitly"
    layout: ClassVar[str] = (
        "images/<stem>.png, gt/<stem>.png (255 = in focus), coc/<stem>.npz, depth/<stem>.npz (float32), manifest.json"
    )
    needs_root: ClassVar[bool] = False
    accepted_options: ClassVar[dict[str, str] | None] = {
        "n": "number of images (default: the split's size, e.g. 200 for test)",
        "seed": "generator seed (default 0)",
        "size": "image size in pixels (default 320)",
        "workers": "processes generating the split (default 2; does not change the images)",
    }

    def __init__(self, root: str | Path | None = None, split: str | None = None, **options: Any):
        super().__init__(root=root, split=split, **options)
        self.n = _int_option(options, "n", params.DEFAULT_N[self.split])
        self.seed = _int_option(options, "seed", params.DEFAULT_SEED)
        self.size = _int_option(options, "size", params.DEFAULT_SIZE)
        self.workers = _int_option(options, "workers", 2)
        if self.n < 1 or self.size < 32:
            raise DatasetError(f"dataset 'synth': need n >= 1 and size >= 32 (got n={self.n}, size={self.size})")

    @classmethod
    def default_root(cls) -> Path:
        from .generate import cache_root

        return cache_root()

    def folder(self) -> Path:
        """The split directory, generated (or regenerated after a version bump) if needed."""
        from .generate import MANIFEST, ensure_split, generate_split, is_current, read_manifest

        if self.root_given and (self.root / MANIFEST).is_file():
            m = read_manifest(self.root) or {}
            if m.get("split") != self.split:
                raise DatasetError(
                    f"{self.root}: holds synth split {m.get('split')!r}, not {self.split!r}; pass --split {m.get('split')}"
                )
            if not is_current(self.root):  # made by another generator version: rebuild with its parameters
                generate_split(
                    self.root,
                    split=self.split,
                    n=int(m.get("n", self.n)),
                    seed=int(m.get("seed", self.seed)),
                    size=int(m.get("size", self.size)),
                    workers=self.workers,
                )
            return self.root
        return ensure_split(
            self.split,
            n=self.n,
            seed=self.seed,
            size=self.size,
            root=self.root if self.root_given else None,
            workers=self.workers,
        )

    def list(self) -> Listing:
        from .generate import read_manifest

        folder = self.folder()
        manifest = read_manifest(folder)
        if manifest is None:  # pragma: no cover - folder() guarantees a manifest
            raise DatasetError(f"{folder}: synth manifest unreadable")
        samples = [
            Sample(
                stem=(stem := s["stem"]),
                gt=folder / "gt" / f"{stem}.png",
                image=folder / "images" / f"{stem}.png",
                coc=folder / "coc" / f"{stem}.npz",
                depth=folder / "depth" / f"{stem}.npz",
            )
            for s in manifest["samples"]
        ]
        return Listing(samples=samples)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(n=self.n, seed=self.seed, size=self.size, generator_version=params.GENERATOR_VERSION)
        return d
