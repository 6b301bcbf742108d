"""Adapters for the public DBD datasets, each in the layout its authors distribute.

None of these datasets can ship with dbdbench; users download them and point
``--root`` (or ``$DBDBENCH_DATA/<name>``) at the unpacked folder. Every adapter
knows its GT polarity so downstream code always sees in-focus = 1.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import DatasetError
from .base import Dataset, Listing, pair_images_and_gt, read_stem_list


def te1_stems() -> list[str]:
    """The 100 stems of CUHK-TE-1 (BTBNet, CENet, SG, D-DFFNet), shipped as package data."""
    text = resources.files("dbdbench.datasets").joinpath("splits/cuhk_te1.txt").read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


class CUHK(Dataset):
    name = "cuhk"
    title = "CUHK blur detection dataset (Shi, Xu & Jia, CVPR 2014)"
    gt_polarity = "blur"
    splits = ("defocus", "all", "motion", "te1")
    default_split = "defocus"
    source = "http://www.cse.cuhk.edu.hk/leojia/projects/dblurdetect/"
    layout = "<root>/image/<stem>.jpg and <root>/gt/<stem>.png, stems out_of_focus0001..0704 and motion0001..0296"

    def list(self) -> Listing:
        gt_dir = self.require_dir(self.root / "gt", "GT folder 'gt'")
        image_dir = self.root / "image"
        stems = te1_stems() if self.split == "te1" else None
        listing = pair_images_and_gt(image_dir, gt_dir, stems=stems)
        prefix = {"defocus": "out_of_focus", "motion": "motion"}.get(self.split)
        if prefix:
            listing.samples = [s for s in listing.samples if s.stem.startswith(prefix)]
            listing.orphan_images = [p for p in listing.orphan_images if p.name.startswith(prefix)]
            if not listing.samples:
                raise DatasetError(f"dataset 'cuhk': no {prefix}*.png GT files in {gt_dir} for split {self.split!r}")
        return listing


class _SourceGtPairs(Dataset):
    """Datasets distributed as ``<prefix>-source/`` photos beside ``<prefix>-gt/`` masks (the Zhao lab's layout)."""

    folders: dict[str, tuple[str, str]] = {}

    def list(self) -> Listing:
        image_name, gt_name = self.folders[self.split]
        gt_dir = self.require_dir(self.root / gt_name, f"GT folder {gt_name!r} (split {self.split})")
        return pair_images_and_gt(self.root / image_name, gt_dir)


class DUT(_SourceGtPairs):
    name = "dut"
    title = "DUT defocus blur detection dataset (Zhao et al., CVPR 2018)"
    gt_polarity = "focus"
    splits = ("test", "train")
    default_split = "test"
    folders = {"test": ("dut500-source", "dut500-gt"), "train": ("dut600-source", "dut600-gt")}
    source = "https://github.com/wdzhao123/DeFusionNet (DUT, from the authors)"
    layout = "<root>/dut500-source/<n>.jpg and <root>/dut500-gt/<n>.bmp (train: dut600-source, dut600-gt)"


class Xu100(_SourceGtPairs):
    name = "xu100"
    title = "CUHK-TE-1 as distributed by the Zhao lab ('xu100', 320x320)"
    gt_polarity = "focus"
    folders = {"test": ("xu100-source", "xu100-gt")}
    source = "the Zhao lab's DBD test sets (see DeFusionNet / BTBNet releases)"
    layout = "<root>/xu100-source/<n>.bmp and <root>/xu100-gt/<n>.bmp"


class _FlexibleLayout(Dataset):
    """Datasets whose archives use one of a few common folder names for photos and masks."""

    image_folders = ("image", "images", "source", "img", "imgs")
    gt_folders = ("gt", "GT", "mask", "masks", "ground_truth")

    def list(self) -> Listing:
        def first(names):
            prefix = f"{self.name}-" if self.name else ""
            for name in names:
                for candidate in (self.root / name, self.root / f"{prefix}{name}", self.root / self.name / name):
                    if candidate.is_dir():
                        return candidate
            return None

        self.require_dir(self.root, "dataset folder")
        gt_dir = first(self.gt_folders)
        if gt_dir is None:
            raise DatasetError(
                f"dataset {self.name!r}: no GT folder in {self.root} (looked for {', '.join(self.gt_folders)}); "
                f"expected layout: {self.layout}; obtain it from {self.source}"
            )
        return pair_images_and_gt(first(self.image_folders), gt_dir)


class CTCUG(_FlexibleLayout):
    name = "ctcug"
    title = "CTCUG defocus blur detection test set (Zhao et al.)"
    gt_polarity = "focus"
    source = "the Zhao lab's DBD releases (CTCUG, 150 images)"
    layout = "<root>/{image|images|source}/<stem>.* and <root>/{gt|mask|masks}/<stem>.*, in-focus white"


class EBD(_FlexibleLayout):
    name = "ebd"
    title = "EBD defocus blur detection test set (Jin et al., D-DFFNet, ICME 2023)"
    gt_polarity = "focus"
    source = "https://github.com/yuxinjin-whu/D-DFFNet"
    layout = "<root>/{image|images|source}/<stem>.* and <root>/{gt|mask|masks}/<stem>.*, in-focus white"


class Folder(Dataset):
    """Any pair of folders: ``--images DIR --gt DIR --gt-polarity focus|blur``."""

    name = "folder"
    title = "Any folder of photos with a folder of masks"
    splits = ("all",)
    default_split = "all"
    layout = "--images DIR and --gt DIR with files matched by stem; --gt-polarity focus|blur"

    def __init__(self, root=None, split=None, *, images=None, gt=None, gt_polarity="focus", **options):
        super().__init__(root=root if root is not None else (gt or "."), split=split, **options)
        if gt is None:
            raise DatasetError("dataset 'folder' needs --gt DIR (and --images DIR to run methods)")
        if gt_polarity not in ("focus", "blur"):
            raise DatasetError(f"--gt-polarity {gt_polarity!r}: expected focus or blur")
        self.images = Path(images) if images else None
        self.gt = Path(gt)
        self.gt_polarity = gt_polarity  # instance attribute overrides the class default

    def list(self) -> Listing:
        if not self.gt.is_dir():
            raise DatasetError(f"--gt {self.gt}: not a folder")
        if self.images is not None and not self.images.is_dir():
            raise DatasetError(f"--images {self.images}: not a folder")
        return pair_images_and_gt(self.images, self.gt)

    def describe(self):
        d = super().describe()
        d.update(images=str(self.images) if self.images else None, gt=str(self.gt), gt_polarity=self.gt_polarity)
        return d


BUILTIN_DATASETS = (CUHK, DUT, Xu100, CTCUG, EBD, Folder)


def subset(listing: Listing, subset_file: str | Path) -> Listing:
    """Keep only the stems listed in ``subset_file``; a listed stem with no GT is an error."""
    wanted = read_stem_list(subset_file)
    by_stem = {s.stem: s for s in listing.samples}
    missing = [s for s in wanted if s not in by_stem]
    if missing:
        raise DatasetError(f"{subset_file}: {len(missing)} listed names have no ground truth (first: {missing[0]!r})")
    return Listing(samples=[by_stem[s] for s in sorted(set(wanted))], orphan_images=[])
