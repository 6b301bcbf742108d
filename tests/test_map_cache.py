"""The map cache never serves a map made from other bytes or by another configuration (issue: trust, part 1)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from dbdbench.api import list_samples, open_dataset, run_method
from dbdbench.protocols import get_protocol

TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _fixture_plugins(monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.setenv("DBDBENCH_EXTRA_PLUGINS", "plugin_fixtures")
    monkeypatch.setenv("DBDBENCH_LOAD_PLUGINS", "none")
    from dbdbench.plugins import reset_registry

    reset_registry()
    yield
    sys.modules.pop("plugin_fixtures", None)


@pytest.fixture
def make_set(make_photo_folder):
    """``make_set(folder, seed, n=4)``: n photos named 0..n-1 (the same names for every seed, like DUT and xu100),
    with focus-white GT, sharp left of a random column."""

    def make_set(folder: Path, seed: int, n: int = 4):
        random_cut = lambda i, rng: int(rng.integers(8, 48))
        return make_photo_folder(folder, n, seed=seed, shape=(40, 56), cut=random_cut, name="{i}")

    return make_set


def run(images, gts, out, **kw):
    ds = open_dataset("folder", options={"images": images, "gt": gts, "gt_polarity": "focus"})
    listing = list_samples(ds)
    result, run_dir = run_method("test-contrast", ds, listing, get_protocol("dbd"), out=out, **kw)
    return result, run_dir


def test_other_images_under_the_same_names_are_recomputed(tmp_path, make_set):
    a = make_set(tmp_path / "a", seed=1)
    b = make_set(tmp_path / "b", seed=2)
    fresh_b, _ = run(*b, tmp_path / "fresh")
    run(*a, tmp_path / "shared")
    second, _ = run(*b, tmp_path / "shared")
    assert second.metrics == fresh_b.metrics
    assert second.run.maps_reused == 0 and second.run.maps_computed == 4


def test_same_root_swapped_bytes_are_recomputed(tmp_path, make_set):
    """Even in one folder: a photo replaced under its old name gets a new map."""
    images, gts = make_set(tmp_path / "a", seed=1)
    run(images, gts, tmp_path / "runs")
    other_images, _ = make_set(tmp_path / "b", seed=2)
    shutil.copyfile(other_images / "0.png", images / "0.png")
    result, _ = run(images, gts, tmp_path / "runs")
    assert (result.run.maps_reused, result.run.maps_computed) == (3, 1)
    fresh, _ = run(images, gts, tmp_path / "fresh")
    assert result.metrics == fresh.metrics


def test_unchanged_data_is_reused_and_counted(tmp_path, make_set):
    images, gts = make_set(tmp_path / "a", seed=1)
    first, dir1 = run(images, gts, tmp_path / "runs")
    again, dir2 = run(images, gts, tmp_path / "runs")
    assert dir1 == dir2
    assert again.run.maps_reused == 4 and again.run.maps_computed == 0
    assert again.metrics == first.metrics


def test_result_json_is_the_returned_result(tmp_path, make_set):
    """What run_method returns is what result.json holds, and the file reads back into the same result."""
    import json

    from dbdbench.results import RunResult

    result, run_dir = run(*make_set(tmp_path / "a", seed=1), tmp_path / "runs")
    text = (run_dir / "result.json").read_text(encoding="utf-8")
    assert json.loads(text) == result.to_json()
    again = RunResult.from_json(json.loads(text))
    assert again == result and not again.portable
    assert json.dumps(again.to_json(), indent=2) + "\n" == text
    assert list(again.to_json())[-4:] == ["environment", "command", "created", "run"]
    assert again.timing is not None and again.timing.images_timed == 4 and again.timing.batch_size == 1


def test_other_options_or_version_never_reuse(tmp_path, monkeypatch, make_set):
    images, gts = make_set(tmp_path / "a", seed=1)
    run(images, gts, tmp_path / "runs")
    import plugin_fixtures

    monkeypatch.setattr(plugin_fixtures.LocalContrast, "version", "2")
    bumped, _ = run(images, gts, tmp_path / "runs")
    assert bumped.run.maps_reused == 0


def test_two_folder_datasets_get_two_run_folders(tmp_path, make_set):
    a = make_set(tmp_path / "a", seed=1)
    b = make_set(tmp_path / "b", seed=2)
    _, dir_a = run(*a, tmp_path / "runs")
    _, dir_b = run(*b, tmp_path / "runs")
    assert dir_a != dir_b and dir_a.parent == dir_b.parent
    assert (dir_a / "result.json").exists() and (dir_b / "result.json").exists()


def test_file_list_hash_follows_content_not_names_or_place(tmp_path, make_set):
    a = make_set(tmp_path / "a", seed=1)
    b = make_set(tmp_path / "b", seed=2)
    shutil.copytree(tmp_path / "a", tmp_path / "copy")

    def digest(images, gts):
        ds = open_dataset("folder", options={"images": images, "gt": gts, "gt_polarity": "focus"})
        return ds.list().file_list_hash()

    assert digest(*a) != digest(*b)  # same names 0..3, other bytes
    assert digest(*a) == digest(tmp_path / "copy" / "images", tmp_path / "copy" / "gt")  # same bytes elsewhere


def test_synth_seeds_do_not_share_a_run_folder():
    from dbdbench.runner import dataset_dir_name

    one = open_dataset("synth", options={"seed": "1", "n": "2"})
    two = open_dataset("synth", options={"seed": "2", "n": "2"})
    default = open_dataset("synth")
    assert len({dataset_dir_name(one), dataset_dir_name(two), dataset_dir_name(default)}) == 3
    assert dataset_dir_name(default) == "synth"


def test_a_method_that_uses_every_core_runs_in_one_process(tmp_path, monkeypatch, make_set):
    """process_parallel = False (learned methods): --workers 2 runs in-process, batched, and says so."""
    from dbdbench import runner
    from dbdbench.plugins import get_registry

    cls = get_registry().method("test-contrast")
    monkeypatch.setattr(cls, "process_parallel", False)

    def no_pool(*args, **kwargs):
        raise AssertionError("a process pool was started")

    monkeypatch.setattr(runner, "ProcessPoolExecutor", no_pool)
    result, _ = run(*make_set(tmp_path / "a", seed=1), tmp_path / "out", workers=2)
    assert result.run.workers == 1 and result.run.maps_computed == 4
