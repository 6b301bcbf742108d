"""The dataset contract: adapters list samples and know their ground truth's polarity.

An adapter turns a dataset's on-disk layout into :class:`Sample` records. It
never decodes pixels; readers in :mod:`dbdbench.io` do that. Polarity is a
property of the adapter (CUHK marks blurred pixels white, DUT marks in-focus
pixels white), so every method and metric downstream sees in-focus = 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

from ..errors import DatasetError
from ..io import IMAGE_EXTENSIONS

Polarity = Literal["focus", "blur"]


@dataclass(frozen=True)
class Sample:
    """One image of a dataset. ``image`` is None when only the GT is present (enough for scoring)."""

    stem: str
    gt: Path
    image: Path | None = None
    #: Optional per-pixel circle-of-confusion diameter map (float32 .npy or one-array .npz, pixels), for blur-stratified scoring.
    coc: Path | None = None
    #: Optional per-pixel depth map (float32 .npy or one-array .npz).
    depth: Path | None = None


@dataclass
class Listing:
    """What an adapter found: paired samples plus anything that did not pair up."""

    samples: list[Sample]
    #: Images with no ground truth (a run refuses these unless --skip-bad).
    orphan_images: list[Path] = field(default_factory=list)

    def file_list_hash(self) -> str:
        """A short hash of the *content* scored: every stem with the bytes of its image and GT.

        Different data never shares it (DUT 1..5 and xu100 1..5 have the same names, not the same bytes);
        identical data always does, wherever it lies. The leaderboard groups results by it.
        """
        from ..hashing import content_hash

        return content_hash((s.stem, s.image, s.gt) for s in self.samples)


class Dataset:
    """Base class of dataset adapters. Subclasses set the class attributes and implement :meth:`list`."""

    name: ClassVar[str]
    title: ClassVar[str] = ""
    #: Which GT pixels are white: "focus" (in focus = white) or "blur" (blurred = white). The release's
    #: convention, as a class default; ``--gt-polarity`` overrides it for one instance (a re-encoded copy).
    gt_polarity: Polarity = "focus"
    splits: ClassVar[tuple[str, ...]] = ("test",)
    default_split: ClassVar[str] = "test"
    #: Where people obtain the data (shown when the root is missing).
    source: ClassVar[str] = ""
    #: The expected on-disk layout, in words (shown when the root is malformed).
    layout: ClassVar[str] = ""
    #: True for datasets that can exist without a root folder (generated ones).
    needs_root: ClassVar[bool] = True
    #: GT images per split in the complete release; a partial copy is scored with a warning and recorded.
    expected_counts: ClassVar[dict[str, int]] = {}
    #: The ``--dataset-option`` names the adapter reads, each with its meaning; any other name is an error.
    #: ``None``: the adapter does not declare its options and they are passed through unchecked.
    accepted_options: ClassVar[dict[str, str] | None] = None

    def __init__(
        self,
        root: str | Path | None = None,
        split: str | None = None,
        *,
        gt_polarity: str | None = None,
        **options: Any,
    ):
        self.split = split or self.default_split
        if self.split not in self.splits:
            raise DatasetError(f"dataset {self.name!r} has no split {self.split!r} (splits: {', '.join(self.splits)})")
        if self.accepted_options is not None:
            unknown = sorted(set(options) - set(self.accepted_options))
            if unknown:
                known = ", ".join(self.accepted_options) or "none"
                raise DatasetError(f"dataset {self.name!r} has no option {unknown[0]!r} (options: {known})")
        if gt_polarity is not None:
            if gt_polarity not in ("focus", "blur"):
                raise DatasetError(f"--gt-polarity {gt_polarity!r}: expected focus or blur")
            self.gt_polarity = cast(Polarity, gt_polarity)  # this copy's masks differ from the release's convention
        #: True when the user declared the GT polarity (``--gt-polarity``; the ``folder`` dataset always does):
        #: then :mod:`dbdbench.polarity` checks the declaration against the photos.
        self.gt_polarity_declared = gt_polarity is not None
        self.root_given = root is not None
        self.root = Path(root).expanduser() if root is not None else self.default_root()
        self.options = options
        #: GT images :meth:`check_complete` found (None until the dataset has been listed).
        self.n_found: int | None = None
        #: Samples the split held before ``--limit``/``--subset`` (set by :func:`dbdbench.api.list_samples`).
        self.n_available: int | None = None

    @classmethod
    def default_root(cls) -> Path:
        """``$DBDBENCH_DATA/<name>`` when set, else ``<user data dir>/dbdbench/datasets/<name>``."""
        env = os.environ.get("DBDBENCH_DATA")
        if env:
            return Path(env).expanduser() / cls.name
        from platformdirs import user_data_dir

        return Path(user_data_dir("dbdbench")) / "datasets" / cls.name

    def list(self) -> Listing:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "split": self.split,
            "root": str(self.root),
            "gt_polarity": self.gt_polarity,
        }
        expected = self.expected_counts.get(self.split)
        if expected is not None:
            d["n_expected"] = expected
            if self.n_found is not None:
                d["n_found"] = self.n_found
                if self.n_found != expected:
                    d["partial"] = f"{self.n_found} of {expected}"
        return d

    def check_complete(self, listing: Listing) -> Listing:
        """Record how many GT images were found; warn on stderr when the split is not the complete release."""
        self.n_found = len(listing.samples)
        expected = self.expected_counts.get(self.split)
        if expected is not None and self.n_found != expected:
            import sys

            print(
                f"warning: dataset {self.name!r} split {self.split!r} at {self.root}: {self.n_found} of {expected} "
                "GT images of the release; scores are not comparable with published ones",
                file=sys.stderr,
            )
        return listing

    @classmethod
    def info(cls) -> dict[str, Any]:
        return {
            "name": cls.name,
            "title": cls.title,
            "gt_polarity": cls.gt_polarity,
            "splits": list(cls.splits),
            "default_split": cls.default_split,
            "source": cls.source,
            "layout": cls.layout,
            "expected_counts": dict(cls.expected_counts),
            "options": dict(cls.accepted_options or {}),
        }

    # ------------------------------------------------------------ helpers for adapters

    def require_dir(self, path: Path, what: str) -> Path:
        """Fail with a message that says what was expected, where we looked, and where to get it."""
        if not path.is_dir():
            how = "--root" if self.root_given else f"--root or $DBDBENCH_DATA (default {self.default_root()})"
            msg = f"dataset {self.name!r}: {what} not found at {path}"
            if self.layout:
                msg += f"; expected layout: {self.layout}"
            msg += f"; set {how}"
            if self.source:
                msg += f"; obtain it from {self.source}"
            raise DatasetError(msg)
        return path


def files_by_stem(folder: Path, extensions: Iterable[str] = IMAGE_EXTENSIONS, suffix: str = "") -> dict[str, Path]:
    """Map stem -> file for the images in ``folder`` (optionally stripping a name suffix such as ``_gt``).

    Two files with one stem (``a.png`` and ``a.jpg``) are ambiguous and refused.
    Directories are included so that a folder named like an image is reported
    when it is read, not silently ignored.
    """
    exts = {e.lower() for e in extensions}
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        ext = entry.suffix.lower()
        if ext not in exts:
            continue
        stem = entry.name[: -len(entry.suffix)]
        if suffix:
            if not stem.endswith(suffix):
                continue
            stem = stem[: -len(suffix)]
        if stem in found:
            raise DatasetError(f"{folder}: two files for {stem!r}: {found[stem].name} and {entry.name}")
        found[stem] = entry
    return found


def pair_images_and_gt(
    image_dir: Path | None,
    gt_dir: Path,
    *,
    gt_suffix: str = "",
    image_suffix: str = "",
    stems: Iterable[str] | None = None,
) -> Listing:
    """Pair images and GT masks by stem. Every GT becomes a sample (image None when missing)."""
    gts = files_by_stem(gt_dir, suffix=gt_suffix)
    if not gts:
        raise DatasetError(f"{gt_dir}: no ground-truth images found (extensions {', '.join(IMAGE_EXTENSIONS)})")
    images = files_by_stem(image_dir, suffix=image_suffix) if image_dir is not None and image_dir.is_dir() else {}
    if stems is not None:
        wanted = list(dict.fromkeys(stems))
        missing = [s for s in wanted if s not in gts]
        if missing:
            raise DatasetError(
                f"{gt_dir}: {len(missing)} of {len(wanted)} listed images have no ground truth (first: {missing[0]!r})"
            )
        keys = sorted(wanted)
    else:
        keys = sorted(gts)
    samples = [Sample(stem=k, gt=gts[k], image=images.get(k)) for k in keys]
    orphans = [] if stems is not None else [p for k, p in sorted(images.items()) if k not in gts]
    return Listing(samples=samples, orphan_images=orphans)


def read_stem_list(path: str | Path) -> list[str]:
    """Read a subset file: one stem per line; blank lines and '#' comments ignored; extensions stripped."""
    from ..errors import InputError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, expected a text file with one image name per line") from None
    except UnicodeDecodeError:
        raise InputError(path, "is not a UTF-8 text file") from None
    stems = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = Path(line).name
        stems.append(Path(name).stem if Path(name).suffix.lower() in IMAGE_EXTENSIONS else name)
    if not stems:
        raise InputError(path, "lists no image names")
    return stems
