"""Adapters for the public DBD datasets, each in the layout its authors distribute.

None of these datasets can ship with dbdbench; users download them and point
``--root`` (or ``$DBDBENCH_DATA/<name>``) at the unpacked folder. Every adapter
knows its GT polarity so downstream code always sees in-focus = 1.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import ClassVar

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
    expected_counts = {"defocus": 704, "motion": 296, "all": 1000, "te1": 100}
    accepted_options: ClassVar[dict[str, str] | None] = {}

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
        return self.check_complete(listing)


class DUT(Dataset):
    """DUT as its authors release it, or the Zhao lab's 320x320 repackaging of its test set."""

    name = "dut"
    title = "DUT defocus blur detection dataset (Zhao et al., CVPR 2018)"
    gt_polarity = "focus"
    splits = ("test", "train")
    default_split = "test"
    #: layout -> split -> (photo folder, GT folder)
    layouts = {
        "official": {
            "test": ("DUT500S-Testing", "DUT500GT-Testing"),
            "train": ("DUT600S_Training", "DUT600GT_Training"),
        },
        "zhao320": {"test": ("dut500-source", "dut500-gt")},
    }
    source = "http://ice.dlut.edu.cn/ZhaoWenda/DBD.html (the authors' page: DUT500 test, DUT600 train)"
    layout = (
        "official release: <root>/DUT500S-Testing/ + <root>/DUT500GT-Testing/ (test), <root>/DUT600S_Training/ + "
        "<root>/DUT600GT_Training/ (train); or the Zhao lab's 320x320 repackaging of the test set: "
        "<root>/dut500-source/<n>.jpg + <root>/dut500-gt/<n>.bmp; in-focus white"
    )
    expected_counts = {"test": 500, "train": 600}
    accepted_options = {"layout": "official, zhao320 or auto (default: official when present, else zhao320)"}

    def __init__(self, root=None, split=None, **options):
        super().__init__(root=root, split=split, **options)
        self.layout_choice = str(options.get("layout") or "auto")
        if self.layout_choice not in ("auto", *self.layouts):
            raise DatasetError(
                f"dataset 'dut': option layout={self.layout_choice!r}: expected official, zhao320 or auto"
            )
        self.layout_read: str | None = None

    def list(self) -> Listing:
        self.require_dir(self.root, "dataset folder")
        bases = [self.root] + [self.root / "DUT-DBD_Dataset"] * (self.root / "DUT-DBD_Dataset").is_dir()
        names = list(self.layouts) if self.layout_choice == "auto" else [self.layout_choice]
        for layout in names:
            folders = self.layouts[layout].get(self.split)
            if folders is None:
                continue
            for base in bases:
                if (base / folders[1]).is_dir():
                    self.layout_read = layout
                    return self.check_complete(pair_images_and_gt(base / folders[0], base / folders[1]))
        wanted = [f"{self.layouts[n][self.split][1]}/" for n in names if self.split in self.layouts[n]]
        if not wanted:
            raise DatasetError(f"dataset 'dut': layout {self.layout_choice!r} has no split {self.split!r}")
        raise DatasetError(
            f"dataset 'dut': no GT folder {' or '.join(wanted)} in {self.root}; expected layout: {self.layout}; "
            f"set --root; obtain it from {self.source}"
        )

    def describe(self):
        d = super().describe()
        if self.layout_read is not None:
            image_dir, gt_dir = self.layouts[self.layout_read][self.split]
            d["layout"] = self.layout_read
            d["folders"] = [image_dir, gt_dir]
        return d


class Xu100(Dataset):
    name = "xu100"
    title = "CUHK-TE-1 as distributed by the Zhao lab ('xu100', 320x320)"
    gt_polarity = "focus"
    source = "the Zhao lab's DBD test sets (http://ice.dlut.edu.cn/ZhaoWenda/DBD.html)"
    layout = "<root>/xu100-source/<n>.bmp and <root>/xu100-gt/<n>.bmp"
    expected_counts = {"test": 100}
    accepted_options: ClassVar[dict[str, str] | None] = {}

    def list(self) -> Listing:
        gt_dir = self.require_dir(self.root / "xu100-gt", "GT folder 'xu100-gt'")
        return self.check_complete(pair_images_and_gt(self.root / "xu100-source", gt_dir))


class _ReleaseFolders(Dataset):
    """A release with one photo folder and one GT folder, found in ``<root>`` or in ``<root>/<subdir>``."""

    folders: tuple[str, str] = ("image", "gt")
    subdir = ""
    accepted_options: ClassVar[dict[str, str] | None] = {}

    def list(self) -> Listing:
        image_name, gt_name = self.folders
        base = self.root
        if not (base / gt_name).is_dir() and self.subdir and (base / self.subdir / gt_name).is_dir():
            base = base / self.subdir
        gt_dir = self.require_dir(base / gt_name, f"GT folder {gt_name!r}")
        return self.check_complete(pair_images_and_gt(base / image_name, gt_dir))


class CTCUG(_ReleaseFolders):
    name = "ctcug"
    title = "CTCUG defocus blur detection test set (Tang et al., DeFusionNET, CVPR 2019 / TPAMI 2022)"
    gt_polarity = "blur"
    folders = ("CTCUG_images", "CTCUG_gt")
    subdir = "CTCUG"
    source = "Tang et al.'s DeFusionNET release (https://github.com/ChangTang/DeFusionNET), 150 images"
    layout = "<root>/CTCUG_images/<stem>.* and <root>/CTCUG_gt/<stem>.*, blurred white (as CUHK)"
    expected_counts = {"test": 150}


class EBD(_ReleaseFolders):
    name = "ebd"
    title = "EBD defocus blur detection test set (Jin et al., D-DFFNet, ICME 2023)"
    gt_polarity = "focus"
    folders = ("image", "gt")
    subdir = "EBD"
    source = "https://github.com/yuxinjin-whu/D-DFFNet (EBD link in its README)"
    layout = "<root>/image/<stem>.* and <root>/gt/<stem>.*, in-focus white"
    expected_counts = {"test": 1605}


class Folder(Dataset):
    """Any pair of folders: ``--images DIR --gt DIR --gt-polarity focus|blur``."""

    name = "folder"
    title = "Any folder of photos with a folder of masks"
    splits = ("all",)
    default_split = "all"
    layout = "--images DIR and --gt DIR with files matched by stem; --gt-polarity focus|blur"
    accepted_options = {
        "images": "the photos (needed to run methods)",
        "gt": "the masks",
        "gt_polarity": "focus (white = in focus) or blur (white = blurred); required",
        "gt_suffix": "GT file name = <image stem><suffix>.<ext> (e.g. _gt for 1.jpg and 1_gt.bmp); default none",
    }

    def __init__(self, root=None, split=None, *, images=None, gt=None, gt_polarity=None, gt_suffix="", **options):
        if gt is None:
            raise DatasetError("dataset 'folder' needs --gt DIR (and --images DIR to run methods)")
        if gt_polarity is None:
            raise DatasetError(
                "dataset 'folder' needs --gt-polarity focus|blur: are the white pixels of the masks in focus (DUT, EBD) "
                "or blurred (CUHK, CTCUG)? Read the wrong way, every score is inverted"
            )
        super().__init__(root=root if root is not None else gt, split=split, gt_polarity=gt_polarity, **options)
        self.images = Path(images) if images else None
        self.gt = Path(gt)
        self.gt_suffix = str(gt_suffix or "")

    def list(self) -> Listing:
        if not self.gt.is_dir():
            raise DatasetError(f"--gt {self.gt}: not a folder")
        if self.images is not None and not self.images.is_dir():
            raise DatasetError(f"--images {self.images}: not a folder")
        return pair_images_and_gt(self.images, self.gt, gt_suffix=self.gt_suffix)

    def describe(self):
        d = super().describe()
        d.update(images=str(self.images) if self.images else None, gt=str(self.gt), gt_polarity=self.gt_polarity)
        if self.gt_suffix:
            d["gt_suffix"] = self.gt_suffix
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
