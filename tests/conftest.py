"""Fixtures of the core's tests: the command line with the test plugins, and the small photo folders the
end-to-end tests run on. The shared research data (``shared``, ``real_shared``, ``derived``) and the command line
itself (``dbdbench_cli``) come from the repository's root conftest.py."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Keep tests away from the user's cache and data folders."""
    monkeypatch.setenv("DBDBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DBDBENCH_DATA", raising=False)
    monkeypatch.delenv("DBDBENCH_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("DBDBENCH_LOAD_PLUGINS", raising=False)
    from dbdbench.plugins import reset_registry

    reset_registry()
    yield
    reset_registry()


# ---------------------------------------------------------------------------- the command line


@pytest.fixture(scope="session")
def cli(dbdbench_cli):
    """The command line with ``tests/plugin_fixtures.py`` (``test-contrast``) on top of the installed plugins."""
    return dbdbench_cli.but(plugins="plugin_fixtures")


@pytest.fixture(scope="session")
def fake_cli(dbdbench_cli):
    """The command line with only the fake methods of ``tests/reliability_plugins.py`` (and the built-in datasets),
    returning failures instead of raising: for the suites that check how failures look."""
    return dbdbench_cli.but(plugins="reliability_plugins", installed_plugins=False, check=False)


# ---------------------------------------------------------------------------- photo folders


class PhotoFolder(NamedTuple):
    """A folder dataset: photos and masks of the same names, the masks white where the photo is in focus."""

    images: Path
    gt: Path

    def run_args(self, method: str, *extra, out: Path | None = None) -> tuple:
        """``run --method METHOD`` on this folder (``--out OUT`` when given), then ``extra``."""
        where = ("--out", out) if out is not None else ()
        return (
            "run",
            "--method",
            method,
            "--images",
            self.images,
            "--gt",
            self.gt,
            "--gt-polarity",
            "focus",
            *where,
            *extra,
        )

    def score_args(self, maps: Path, *extra) -> tuple:
        """``score --maps MAPS`` against this folder's masks, then ``extra``."""
        return ("score", "--maps", maps, "--gt", self.gt, "--gt-polarity", "focus", *extra)


def write_photo_folder(
    root: Path,
    n: int = 6,
    *,
    seed: int = 0,
    shape: tuple[int, int] = (48, 64),
    cut: Callable[[int, np.random.Generator], int] = lambda i, rng: 16 + 6 * i,
    sigma: Callable[[int], float] = lambda i: 3,
    name: str = "img {i}",
    images: str = "images",
) -> PhotoFolder:
    """``n`` photos of random texture, sharp left of column ``cut(i, rng)`` and Gaussian-blurred (``sigma(i)``)
    right of it, named ``name.format(i=i)``; masks white on the sharp part. ``cut`` may draw from the generator,
    after the photo's texture."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    folder = PhotoFolder(root / images, root / "gt")
    folder.images.mkdir(parents=True, exist_ok=True)
    folder.gt.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        tex = rng.random((*shape, 3)) * 255
        focus = np.zeros(shape, bool)
        focus[:, : cut(i, rng)] = True
        s = sigma(i)
        photo = np.where(focus[..., None], tex, ndimage.gaussian_filter(tex, (s, s, 0))).astype(np.uint8)
        Image.fromarray(photo).save(folder.images / f"{name.format(i=i)}.png")
        Image.fromarray((focus * 255).astype(np.uint8)).save(folder.gt / f"{name.format(i=i)}.png")
    return folder


@pytest.fixture(scope="session")
def make_photo_folder():
    """``write_photo_folder(root, n, seed=, shape=, cut=, sigma=, name=, images=)``: photos for real methods."""
    return write_photo_folder


@pytest.fixture
def folder_dataset(tmp_path) -> PhotoFolder:
    """Six 48x64 photos named ``img 0`` .. ``img 5``, a sharp textured part and a blurred part, in ``tmp_path``."""
    return write_photo_folder(tmp_path)


@dataclasses.dataclass(frozen=True)
class MarkedPhotos:
    """Photos for the fake methods of ``tests/reliability_plugins.py``: textured (in focus) left half, flat right
    half. ``predict`` only sees pixels, so a photo whose top-left pixel is ``marker`` makes the fake-* methods
    misbehave (``reliability_plugins.MARKER``)."""

    height: int = 40
    width: int = 48
    marker: tuple[int, int, int] = (1, 2, 3)

    def photo(self, rng: np.random.Generator, height: int | None = None, width: int | None = None, marked=False):
        h, w = height or self.height, width or self.width
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        a[:, w // 2 :] = 128
        if marked:
            a[0, 0] = self.marker
        return a

    def mask(self, height: int | None = None, width: int | None = None) -> np.ndarray:
        h, w = height or self.height, width or self.width
        g = np.zeros((h, w), np.uint8)
        g[:, : w // 2] = 255
        return g

    def folder(self, root: Path, n: int = 6, marked: tuple[int, ...] = (), prefix: str = "im") -> PhotoFolder:
        """``n`` photos ``{prefix}00.png``.. with their masks; those numbered in ``marked`` carry the marker."""
        rng = np.random.default_rng(0)
        folder = PhotoFolder(root / "images", root / "gt")
        folder.images.mkdir(parents=True, exist_ok=True)
        folder.gt.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(self.photo(rng, marked=i in marked)).save(folder.images / f"{prefix}{i:02d}.png")
            Image.fromarray(self.mask()).save(folder.gt / f"{prefix}{i:02d}.png")
        return folder

    def folder_with_maps(self, root: Path, n: int = 6) -> tuple[PhotoFolder, Path]:
        """``folder(root, n)`` and ``root/maps``: perfect maps (copies of the masks) to score against it."""
        folder = self.folder(root, n)
        shutil.copytree(folder.gt, root / "maps")
        return folder, root / "maps"


@pytest.fixture(scope="session")
def marked_photos() -> MarkedPhotos:
    return MarkedPhotos()


# ---------------------------------------------------------------------------- run folders


@pytest.fixture(scope="session")
def only_dir():
    """``only_dir(parent, prefix)``: the one run folder under ``parent`` whose name starts with ``prefix`` (a
    folder dataset's run folder is named ``folder@<hash>``)."""

    def only_dir(parent: Path, prefix: str = "folder") -> Path:
        found = sorted(parent.glob(f"{prefix}*"))
        assert len(found) == 1, found
        return found[0]

    return only_dir


@pytest.fixture(scope="session")
def make_runs(cli):
    """``make_runs(root, n=6)``: a runs folder made through the real command line, for the plot and report tests.

    Under ``root``: ``images/`` and ``gt/`` (60x80 photos ``img 0``.., blurred by 2-4 px) and ``runs/`` with two
    method rows, ``test-contrast`` and ``test-contrast@window=3``. Returns the runs folder."""

    def make_runs(root: Path, n: int = 6) -> Path:
        data = write_photo_folder(root, n, shape=(60, 80), cut=lambda i, rng: 20 + 8 * i, sigma=lambda i: 2 + i % 3)
        runs = root / "runs"
        for extra in ((), ("--option", "window=3")):
            cli(*data.run_args("test-contrast", *extra, out=runs))
        return runs

    return make_runs
