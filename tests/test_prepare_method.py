"""A method is prepared in one place (dbdbench.prepare): options, device, row and record come out one way for
``run``, its worker processes and ``bench``; the timing record ``bench`` writes is typed and reads back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dbdbench.errors import DbdbenchError


@pytest.fixture(autouse=True)
def _only_the_fixture_methods(monkeypatch):
    """``test-contrast`` (handcrafted, option ``window``) and ``test-untrained`` (learned); conftest's
    ``_isolated_env`` resets the registry again afterwards."""
    from dbdbench.plugins import reset_registry

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent))
    monkeypatch.setenv("DBDBENCH_EXTRA_PLUGINS", "plugin_fixtures,bench_fixtures")
    monkeypatch.setenv("DBDBENCH_LOAD_PLUGINS", "none")
    reset_registry()


def test_options_are_resolved_once_and_only_changed_ones_name_the_row(monkeypatch):
    from dbdbench import prepare

    prepared = prepare.prepare_method("test-contrast", {"window": "5"})
    assert prepared.options == {"window": 5} and prepared.given == {"window": 5}
    assert prepared.row == "test-contrast@window=5"
    assert prepare.prepare_method("test-contrast", {"window": "9"}).row == "test-contrast"  # the default

    def no_second_resolution(*args, **kwargs):
        raise AssertionError("options resolved again when the method was built")

    monkeypatch.setattr("dbdbench.methods.resolve_options", no_second_resolution)
    method = prepared.build()
    assert method.config == {"window": 5} and method.device == "cpu"


def test_unknown_options_and_devices_are_refused_before_anything_is_built():
    from dbdbench.prepare import prepare_method

    with pytest.raises(DbdbenchError, match="method 'test-contrast' has no option 'size' \\(options: window\\)"):
        prepare_method("test-contrast", {"size": "3"})
    with pytest.raises(DbdbenchError, match="not a valid int"):
        prepare_method("test-contrast", {"window": "wide"})
    with pytest.raises(DbdbenchError, match="--device 'tpu'"):
        prepare_method("test-contrast", device="tpu")
    with pytest.raises(DbdbenchError, match="unknown method 'nope'"):
        prepare_method("nope")


def test_the_device_rule_lives_on_the_method_class(monkeypatch):
    """Handcrafted: the CPU whatever is asked, with a note when something else was; learned: resolved."""
    from dbdbench.plugins import get_registry
    from dbdbench.prepare import DEFAULT_DEVICE, prepare_method

    assert DEFAULT_DEVICE == "auto"
    handcrafted = prepare_method("test-contrast", device="cuda")
    assert handcrafted.device == "cpu"
    assert handcrafted.note == "test-contrast is a handcrafted method and runs on the CPU; --device cuda is ignored"
    assert prepare_method("test-contrast").note is None

    learned = get_registry().method("test-untrained")
    monkeypatch.setattr("dbdbench.methods.resolve_device", lambda asked: f"resolved:{asked}")
    assert learned.choose_device("auto") == "resolved:auto" and learned.device_note("cuda") is None
    assert prepare_method("test-untrained").device == "resolved:auto"


def test_a_failing_constructor_is_one_line():
    from dbdbench.plugins import get_registry
    from dbdbench.prepare import prepare_method

    cls = get_registry().method("test-contrast")
    prepared = prepare_method("test-contrast")

    class Broken(cls):  # type: ignore[misc, valid-type]
        def __init__(self, device="cpu", **options):
            raise OSError("weights file not found\nsecond line")

    broken = type(prepared)(**{**prepared.__dict__, "cls": Broken})
    with pytest.raises(DbdbenchError) as err:
        broken.build()
    assert str(err.value) == "method 'test-contrast' failed to initialise: OSError: weights file not found"


def test_the_method_record_keeps_the_order_results_have_always_had():
    from dbdbench.prepare import prepare_method

    record = prepare_method("test-contrast", {"window": 3}).record(provenance={}, cache_key="k")
    described = ["id", "name", "paper", "year", "kind", "description", "options", "version"]
    assert list(record) == [*described, "plugin", "plugin_version", "provenance", "cache_key"]
    assert record["options"] == {"window": 3} and record["plugin"] == "plugin_fixtures"


def _photos(folder: Path, n: int = 3) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    images, gts = folder / "images", folder / "gt"
    images.mkdir(parents=True), gts.mkdir(parents=True)
    for i in range(n):
        Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(images / f"{i}.png")
        Image.fromarray(np.tile(np.arange(32) < 16, (24, 1)).astype(np.uint8) * 255).save(gts / f"{i}.png")
    return images, gts


def test_run_method_takes_a_prepared_method_and_its_workers_build_from_it(tmp_path):
    from dbdbench.api import list_samples, open_dataset, run_method
    from dbdbench.prepare import prepare_method
    from dbdbench.protocols import get_protocol

    images, gts = _photos(tmp_path)
    dataset = open_dataset("folder", options={"images": images, "gt": gts, "gt_polarity": "focus"})
    listing, protocol = list_samples(dataset), get_protocol("dbd")
    prepared = prepare_method("test-contrast", {"window": "5"}, "cuda")
    result, run_dir = run_method(prepared, dataset, listing, protocol, out=tmp_path / "runs", workers=2)
    assert run_dir.parts[-2] == "test-contrast@window=5" and result.run.workers == 2 and result.run.device == "cpu"
    assert result.method["options"] == {"window": 5} and result.run.maps_computed == 3
    by_id, _ = run_method("test-contrast", dataset, listing, protocol, out=tmp_path / "runs", options={"window": 5})
    assert by_id.metrics == result.metrics and by_id.run.maps_reused == 3  # the same configuration, the same cache
    with pytest.raises(DbdbenchError, match="options and device already"):
        run_method(prepared, dataset, listing, protocol, out=tmp_path / "runs", options={"window": 3})


def test_the_timing_record_is_typed_and_reads_back_key_for_key(tmp_path):
    from dbdbench.latency import measure_latency
    from dbdbench.leaderboard.store import save_timing
    from dbdbench.results import ResultFormatError, TimingRecord

    record = measure_latency("test-untrained", size=32, repeats=2, warmup=0, device="cpu")
    assert record.row == "test-untrained" and record.random_weights and record.model is not None
    obj = record.to_json()
    assert list(obj)[:4] == ["schema", "record", "row", "method"] and list(obj)[-2:] == ["environment", "command"]
    assert TimingRecord.from_json(json.loads(json.dumps(obj))).to_json() == obj
    saved = json.loads(save_timing(record, tmp_path).read_text())
    assert "platform" not in saved["environment"] and saved["median_ms"] == obj["median_ms"]
    for broken in (
        {**obj, "record": "result"},
        {**obj, "median_ms": "fast"},
        {k: v for k, v in obj.items() if k != "environment"},
    ):
        with pytest.raises(ResultFormatError):
            TimingRecord.from_json(broken)
