"""Dataset adapters: layouts, splits, polarity, pairing and the errors a user sees."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dbdbench.api import list_samples, open_dataset
from dbdbench.datasets.real import te1_stems
from dbdbench.errors import DatasetError


def _png(path, value=255, size=(8, 6)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size, value, np.uint8)).save(path)


def test_te1_list_is_shipped_and_matches_the_shared_split(shared):
    stems = te1_stems()
    assert len(stems) == 100 and len(set(stems)) == 100
    assert all(s.startswith("out_of_focus") for s in stems)
    assert stems == (shared / "cuhk/splits/te1.txt").read_text().split()


def test_cuhk_splits_on_real_gt(shared):
    counts = {}
    for split in ("defocus", "motion", "all", "te1"):
        listing = open_dataset("cuhk", root=shared / "cuhk", split=split).list()
        counts[split] = len(listing.samples)
    assert counts == {"defocus": 704, "motion": 296, "all": 1000, "te1": 100}
    listing = open_dataset("cuhk", root=shared / "cuhk").list()
    with_images = [s.stem for s in listing.samples if s.image is not None]
    assert with_images == ["out_of_focus0011", "out_of_focus0031", "out_of_focus0223", "out_of_focus0284", "out_of_focus0607"]


def test_zhao_lab_layouts(shared):
    for name in ("dut", "xu100"):
        ds = open_dataset(name, root=shared / name)
        samples = ds.list().samples
        assert [s.stem for s in samples] == ["1", "2", "3", "4", "5"]
        assert all(s.image is not None and s.image.exists() for s in samples)
        assert ds.gt_polarity == "focus"


@pytest.mark.parametrize("image_dir,gt_dir", [("image", "gt"), ("images", "masks"), ("source", "GT")])
def test_flexible_layouts_for_ctcug_and_ebd(tmp_path, image_dir, gt_dir):
    for name in ("ctcug", "ebd"):
        root = tmp_path / name
        _png(root / image_dir / "a.png")
        _png(root / gt_dir / "a.png")
        samples = open_dataset(name, root=root).list().samples
        assert [(s.stem, s.image is not None) for s in samples] == [("a", True)]


def test_missing_root_message_names_layout_and_source(tmp_path):
    with pytest.raises(DatasetError) as err:
        open_dataset("cuhk", root=tmp_path / "missing").list()
    msg = str(err.value)
    assert "missing" in msg and "<root>/gt" in msg and "cuhk.edu.hk" in msg


def test_default_root_comes_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DBDBENCH_DATA", str(tmp_path))
    assert open_dataset("dut").root == tmp_path / "dut"


def test_folder_pairs_by_stem_and_reports_orphans(tmp_path):
    _png(tmp_path / "img" / "a.jpg")
    _png(tmp_path / "img" / "b.png")
    _png(tmp_path / "img" / "extra.png")
    _png(tmp_path / "gt" / "a.png")
    _png(tmp_path / "gt" / "b.bmp")
    _png(tmp_path / "gt" / "c.png")
    ds = open_dataset("folder", options={"images": tmp_path / "img", "gt": tmp_path / "gt", "gt_polarity": "blur"})
    listing = ds.list()
    assert ds.gt_polarity == "blur"
    assert [(s.stem, s.image.name if s.image else None) for s in listing.samples] == [("a", "a.jpg"), ("b", "b.png"), ("c", None)]
    assert [p.name for p in listing.orphan_images] == ["extra.png"]


def test_two_files_for_one_stem_are_refused(tmp_path):
    _png(tmp_path / "gt" / "a.png")
    _png(tmp_path / "gt" / "a.bmp")
    with pytest.raises(DatasetError, match="two files for 'a'"):
        open_dataset("folder", options={"gt": tmp_path / "gt"}).list()


def test_subset_and_limit(tmp_path):
    for stem in "abcd":
        _png(tmp_path / "gt" / f"{stem}.png")
    (tmp_path / "keep.txt").write_text("# a comment\nc.png\na\n\n")
    ds = open_dataset("folder", options={"gt": tmp_path / "gt"})
    assert [s.stem for s in list_samples(ds, subset=tmp_path / "keep.txt").samples] == ["a", "c"]
    assert [s.stem for s in list_samples(ds, limit=3).samples] == ["a", "b", "c"]
    (tmp_path / "bad.txt").write_text("zzz\n")
    with pytest.raises(DatasetError, match="no ground truth"):
        list_samples(ds, subset=tmp_path / "bad.txt")


def test_unknown_split_and_dataset():
    with pytest.raises(DatasetError, match="splits: defocus, all, motion, te1"):
        open_dataset("cuhk", split="nope")
    with pytest.raises(Exception, match="unknown dataset 'nope'"):
        open_dataset("nope")
