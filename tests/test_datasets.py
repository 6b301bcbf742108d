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
    assert with_images == [
        "out_of_focus0011",
        "out_of_focus0031",
        "out_of_focus0223",
        "out_of_focus0284",
        "out_of_focus0607",
    ]


def test_zhao_lab_layouts(shared):
    for name in ("dut", "xu100"):
        ds = open_dataset(name, root=shared / name)
        samples = ds.list().samples
        assert [s.stem for s in samples] == ["1", "2", "3", "4", "5"]
        assert all(s.image is not None and s.image.exists() for s in samples)
        assert ds.gt_polarity == "focus"


def test_release_layouts_of_ctcug_and_ebd(tmp_path):
    for name, image_dir, gt_dir, polarity in (
        ("ctcug", "CTCUG_images", "CTCUG_gt", "blur"),
        ("ebd", "image", "gt", "focus"),
    ):
        for root in (tmp_path / name, tmp_path / f"{name}-parent" / name.upper()):  # the folder itself, or its parent
            _png(root / image_dir / "a.jpg")
            _png(root / gt_dir / "a.png")
            ds = open_dataset(name, root=root if root.name == name else root.parent)
            assert [(s.stem, s.image is not None) for s in ds.list().samples] == [("a", True)]
            assert ds.gt_polarity == polarity


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
    assert [(s.stem, s.image.name if s.image else None) for s in listing.samples] == [
        ("a", "a.jpg"),
        ("b", "b.png"),
        ("c", None),
    ]
    assert [p.name for p in listing.orphan_images] == ["extra.png"]


def test_two_files_for_one_stem_are_refused(tmp_path):
    _png(tmp_path / "gt" / "a.png")
    _png(tmp_path / "gt" / "a.bmp")
    with pytest.raises(DatasetError, match="two files for 'a'"):
        open_dataset("folder", options={"gt": tmp_path / "gt"}, gt_polarity="focus").list()


def test_subset_and_limit(tmp_path):
    for stem in "abcd":
        _png(tmp_path / "gt" / f"{stem}.png")
    (tmp_path / "keep.txt").write_text("# a comment\nc.png\na\n\n")
    ds = open_dataset("folder", options={"gt": tmp_path / "gt", "gt_polarity": "focus"})
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


# ------------------------------------------------------------------ releases as their authors lay them out


def _pair_files(root, image_dir, gt_dir, n, rng, gt_ext=".png", blur_white=False, shape=(24, 32)):
    """n photos with masks; the map folder gets a focus map per photo (a noisy version of the truth)."""
    maps = root / "maps"
    for i in range(1, n + 1):
        focus = np.zeros(shape, bool)
        focus[:, : rng.integers(4, shape[1] - 4)] = True
        mask = ~focus if blur_white else focus
        _write(root / image_dir / f"{i}.jpg", (rng.random(shape + (3,)) * 255).astype(np.uint8))
        _write(root / gt_dir / f"{i}{gt_ext}", (mask * 255).astype(np.uint8))
        _write(maps / f"{i}.png", np.clip(focus * 180 + rng.normal(40, 30, shape), 0, 255).astype(np.uint8))
    return maps


def _write(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def _score(maps, dataset, protocol="dbd"):
    from dbdbench.api import score_maps
    from dbdbench.protocols import get_protocol

    result, _ = score_maps(maps, dataset, list_samples(dataset), get_protocol(protocol), workers=1)
    return result


@pytest.mark.parametrize("protocol", ["dbd", "ddffnet", "hifst"])
def test_ctcug_release_scores_like_folder_with_blur_polarity(tmp_path, protocol):
    rng = np.random.default_rng(0)
    maps = _pair_files(tmp_path / "CTCUG", "CTCUG_images", "CTCUG_gt", 4, rng, blur_white=True)
    ctcug = _score(maps, open_dataset("ctcug", root=tmp_path / "CTCUG"), protocol)
    folder = _score(
        maps,
        open_dataset(
            "folder",
            options={
                "images": tmp_path / "CTCUG/CTCUG_images",
                "gt": tmp_path / "CTCUG/CTCUG_gt",
                "gt_polarity": "blur",
            },
        ),
        protocol,
    )
    assert ctcug.metrics == folder.metrics and ctcug.curves == folder.curves
    assert ctcug.metrics["f_max"] > 0.9  # read as blur-white: the noisy maps score well
    assert ctcug.dataset["partial"] == "4 of 150" and ctcug.dataset["n_expected"] == 150


@pytest.mark.parametrize(
    "split,image_dir,gt_dir",
    [("test", "DUT500S-Testing", "DUT500GT-Testing"), ("train", "DUT600S_Training", "DUT600GT_Training")],
)
def test_dut_official_release_scores_like_folder_with_focus_polarity(tmp_path, split, image_dir, gt_dir):
    rng = np.random.default_rng(1)
    maps = _pair_files(tmp_path / "DUT", image_dir, gt_dir, 5, rng, gt_ext=".bmp")
    dut = open_dataset("dut", root=tmp_path / "DUT", split=split)
    a = _score(maps, dut)
    b = _score(
        maps,
        open_dataset(
            "folder",
            options={"images": tmp_path / "DUT" / image_dir, "gt": tmp_path / "DUT" / gt_dir},
            gt_polarity="focus",
        ),
    )
    assert a.metrics == b.metrics and a.metrics["f_max"] > 0.9
    assert a.dataset["layout"] == "official" and a.dataset["folders"] == [image_dir, gt_dir]
    assert a.dataset["partial"] == f"5 of {500 if split == 'test' else 600}"


def test_dut_accepts_the_zhao_lab_repackaging_and_says_which_layout_it_read(tmp_path, capsys):
    rng = np.random.default_rng(2)
    _pair_files(tmp_path, "dut500-source", "dut500-gt", 3, rng, gt_ext=".bmp")
    ds = open_dataset("dut", root=tmp_path)
    assert [s.stem for s in ds.list().samples] == ["1", "2", "3"]
    assert ds.describe()["layout"] == "zhao320" and ds.describe()["partial"] == "3 of 500"
    assert "3 of 500" in capsys.readouterr().err
    # both layouts present: the official one wins unless asked
    _pair_files(tmp_path, "DUT500S-Testing", "DUT500GT-Testing", 2, rng)
    assert len(open_dataset("dut", root=tmp_path).list().samples) == 2
    assert len(open_dataset("dut", root=tmp_path, options={"layout": "zhao320"}).list().samples) == 3
    with pytest.raises(DatasetError, match="no split 'train'"):
        open_dataset("dut", root=tmp_path, split="train", options={"layout": "zhao320"}).list()
    with pytest.raises(DatasetError, match="DUT600GT_Training"):
        open_dataset("dut", root=tmp_path, split="train").list()


def test_complete_copy_is_not_flagged(tmp_path, capsys):
    for i in range(100):
        _png(tmp_path / "xu100-gt" / f"{i}.bmp")
    ds = open_dataset("xu100", root=tmp_path)
    ds.list()
    d = ds.describe()
    assert d["n_expected"] == d["n_found"] == 100 and "partial" not in d
    assert "warning" not in capsys.readouterr().err


def test_folder_needs_gt_polarity(tmp_path):
    _png(tmp_path / "gt" / "a.png")
    with pytest.raises(DatasetError, match="--gt-polarity"):
        open_dataset("folder", options={"gt": tmp_path / "gt"})
    assert open_dataset("folder", options={"gt": tmp_path / "gt"}, gt_polarity="blur").gt_polarity == "blur"


def test_dataset_options_are_validated():
    with pytest.raises(DatasetError, match=r"no option 'seeds' \(options: n, seed, size, workers\)"):
        open_dataset("synth", options={"seeds": "3"})
    with pytest.raises(DatasetError, match="no option 'n'"):
        open_dataset("cuhk", options={"n": "3"})
    with pytest.raises(DatasetError, match="layout='nope'"):
        open_dataset("dut", options={"layout": "nope"})


def test_gt_polarity_override_goes_through_the_constructor(tmp_path):
    ds = open_dataset("cuhk", root=tmp_path, gt_polarity="focus")
    assert ds.gt_polarity == "focus" and type(ds).gt_polarity == "blur"
    with pytest.raises(DatasetError, match="expected focus or blur"):
        open_dataset("cuhk", root=tmp_path, gt_polarity="white")


def test_run_without_dataset_uses_synth(tmp_path, cli):
    import json

    args = ("run", "--method", "test-contrast", "--dataset-option", "n=2", "--dataset-option", "size=64")
    proc = cli(*args, "--out", tmp_path / "runs", "--json", DBDBENCH_CACHE=str(tmp_path / "cache"))
    result = json.loads(proc.stdout)
    assert result["dataset"]["name"] == "synth" and result["n_images"] == 2
