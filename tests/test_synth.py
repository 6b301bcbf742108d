"""The embedded synthetic dataset: determinism, exact GT, manifest, cache, splits, API, adapter, command."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dbdbench.datasets.synth import (
    FB_MIN_COC_PX,
    FOCUS_COC_PX,
    GENERATOR_VERSION,
    SynthDataset,
    generate_split,
    params,
    render_scene,
    stream,
)
from dbdbench.datasets.synth import generate as gen
from dbdbench.io import read_array

SIZE = 96
N = 6


@pytest.fixture(scope="module")
def test_split(tmp_path_factory) -> Path:
    return generate_split(tmp_path_factory.mktemp("a") / "test", split="test", n=N, seed=3, size=SIZE, workers=2)


def _read_all(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(test_split, tmp_path):
    again = generate_split(tmp_path / "again", split="test", n=N, seed=3, size=SIZE, workers=1)
    assert _read_all(test_split) == _read_all(again)
    other = generate_split(tmp_path / "other", split="test", n=2, seed=4, size=SIZE, workers=1)
    assert (other / "images/synth_test_0000.png").read_bytes() != (
        test_split / "images/synth_test_0000.png"
    ).read_bytes()


def test_image_does_not_depend_on_what_was_generated_before():
    a = render_scene(3, 4, SIZE, "test")
    b = render_scene(3, 4, SIZE, "test")
    assert np.array_equal(a.image, b.image) and np.array_equal(a.coc, b.coc)
    first = next(stream("test", seed=3, size=SIZE, start=4))
    assert np.array_equal(first.image, a.image)


def test_layout_and_gt_equals_coc_threshold(test_split):
    stems = [f"synth_test_{i:04d}" for i in range(N)]
    for stem in stems:
        img = np.asarray(Image.open(test_split / "images" / f"{stem}.png"))
        gt = np.asarray(Image.open(test_split / "gt" / f"{stem}.png"))
        coc = read_array(test_split / "coc" / f"{stem}.npz")
        depth = read_array(test_split / "depth" / f"{stem}.npz")
        assert img.shape == (SIZE, SIZE, 3) and img.dtype == np.uint8
        assert gt.shape == (SIZE, SIZE) and gt.dtype == np.uint8 and set(np.unique(gt)) <= {0, 255}
        assert coc.dtype == np.float32 and depth.dtype == np.float32
        assert np.array_equal(gt == 255, coc <= FOCUS_COC_PX)
        assert (coc >= 0).all() and (depth > 0).all()


def test_manifest_lists_every_file_with_its_hash(test_split):
    m = json.loads((test_split / "manifest.json").read_text())
    assert m["generator_version"] == GENERATOR_VERSION
    assert (m["split"], m["n"], m["seed"], m["size"]) == ("test", N, 3, SIZE)
    on_disk = {p.relative_to(test_split).as_posix() for p in test_split.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(m["files"]) == on_disk and len(on_disk) == 4 * N
    for rel, digest in m["files"].items():
        assert hashlib.sha256((test_split / rel).read_bytes()).hexdigest() == digest
    assert gen.verify_split(test_split) == []
    assert not list(test_split.parent.glob(".*tmp*"))  # the temporary build dir was renamed away


def test_version_bump_invalidates_cache(tmp_path, monkeypatch):
    first = gen.ensure_split("test", n=2, seed=1, size=64, root=tmp_path, workers=1)
    assert gen.ensure_split("test", n=2, seed=1, size=64, root=tmp_path, workers=1) == first  # reused
    mtime = (first / "manifest.json").stat().st_mtime_ns
    monkeypatch.setattr(params, "GENERATOR_VERSION", "999-test")
    assert not gen.is_current(first)
    second = gen.ensure_split("test", n=2, seed=1, size=64, root=tmp_path, workers=1)
    assert second != first and "v999-test" in second.parts[-2]
    assert json.loads((second / "manifest.json").read_text())["generator_version"] == "999-test"
    # an explicit output folder from an older version is rebuilt in place by the adapter
    out = generate_split(tmp_path / "explicit", split="test", n=2, seed=1, size=64, workers=1)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["generator_version"] = "0-old"
    (out / "manifest.json").write_text(json.dumps(manifest))
    SynthDataset(root=out, split="test").list()
    assert json.loads((out / "manifest.json").read_text())["generator_version"] == "999-test"
    assert (first / "manifest.json").stat().st_mtime_ns == mtime


def test_refuses_to_overwrite_a_foreign_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious")
    with pytest.raises(Exception, match="not a synth split"):
        generate_split(tmp_path / "mine", n=1, size=64, workers=1)
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "precious"


def test_full_clear_and_full_blur_splits():
    for i in range(3):
        fc = render_scene(0, i, SIZE, "fc")
        assert (fc.coc <= FOCUS_COC_PX).all() and fc.gt.all()
        fb = render_scene(0, i, SIZE, "fb")
        assert (fb.coc >= FB_MIN_COC_PX).all() and not fb.gt.any()


def test_a_lower_fb_floor_renders_the_same_scenes_less_blurred():
    """benchmarks/make_blurred_pool.py: the floor moves, the scene (its depths) does not."""
    for i in range(4):
        fb, mild = render_scene(0, i, SIZE, "fb"), render_scene(0, i, SIZE, "fb", fb_floor=1.6)
        assert (mild.coc >= 1.6).all() and not mild.gt.any()
        assert mild.coc.min() < fb.coc.min()
        np.testing.assert_array_equal(mild.depth, fb.depth)


def test_in_focus_fraction_spreads_widely():
    fracs = [render_scene(0, i, 64, "test").gt.mean() for i in range(24)]
    assert min(fracs) < 0.25 and max(fracs) > 0.75
    assert np.std(fracs) > 0.15


def test_streaming_api_shapes_and_dtypes():
    it = stream("train", seed=0, size=64)
    scenes = [next(it) for _ in range(3)]
    for s in scenes:
        assert s.image.shape == (64, 64, 3) and s.image.dtype == np.uint8
        assert s.gt.shape == (64, 64) and s.gt.dtype == bool
        assert s.coc.dtype == np.float32 and s.depth.dtype == np.float32
        assert np.array_equal(s.gt, s.coc <= FOCUS_COC_PX)
    assert not np.array_equal(scenes[0].image, scenes[1].image)
    test0 = render_scene(0, 0, 64, "test")
    assert not np.array_equal(scenes[0].image, test0.image)  # splits never share an image


def test_adapter_lists_generated_split(tmp_path, monkeypatch):
    monkeypatch.setenv("DBDBENCH_CACHE", str(tmp_path / "cache"))
    ds = SynthDataset(split="test", n="3", seed="2", size="64")  # the CLI passes strings
    assert ds.needs_root is False and ds.gt_polarity == "focus"
    listing = ds.list()
    assert [s.stem for s in listing.samples] == ["synth_test_0000", "synth_test_0001", "synth_test_0002"]
    for s in listing.samples:
        assert s.image.is_file() and s.gt.is_file() and s.coc.is_file() and s.depth.is_file()
    assert str(listing.samples[0].gt).startswith(str(tmp_path / "cache"))
    assert listing.orphan_images == []
    # --root pointing at an explicit output folder is read as is
    out = generate_split(tmp_path / "out", split="fb", n=2, size=64, workers=1)
    fb = SynthDataset(root=out, split="fb").list()
    assert [s.stem for s in fb.samples] == ["synth_fb_0000", "synth_fb_0001"]
    assert fb.samples[0].gt.parent == out / "gt"


def test_plugin_registers_dataset_and_command():
    from dbdbench.datasets.synth import plugin

    got = []
    plugin.register_datasets(register=got.append)
    assert got == [SynthDataset]

    class FakeCli:
        def __init__(self):
            self.commands = []

        def add_command(self, cmd):
            self.commands.append(cmd)

    cli = FakeCli()
    plugin.register_commands(cli=cli)
    assert [c.name for c in cli.commands] == ["synth"]


def test_command_writes_split_and_preview(tmp_path):
    from click.testing import CliRunner

    from dbdbench.datasets.synth.command import synth_command

    out, preview = tmp_path / "out", tmp_path / "sheet.png"
    res = CliRunner().invoke(
        synth_command,
        ["--n", "3", "--size", "64", "--seed", "5", "--out", str(out), "--preview", str(preview), "--workers", "1"],
    )
    assert res.exit_code == 0, res.output
    assert (out / "manifest.json").is_file() and len(list((out / "images").glob("*.png"))) == 3
    with Image.open(preview) as im:
        assert im.format == "PNG" and im.width > 3 * 64
    bad = CliRunner().invoke(synth_command, ["--split", "nope"])
    assert bad.exit_code != 0
