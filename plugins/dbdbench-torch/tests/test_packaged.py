"""Every plugin's table of shipped weights matches the files (issue 25: one table per plugin, timm's idea)."""

from __future__ import annotations

import shutil

import pytest
from dbdbench_torch.inference import TorchMethod
from dbdbench_torch.packaged import PackagedWeights, Shipped
from dbdbench_torch.weights import weights_digest

from dbdbench.errors import DbdbenchError
from dbdbench.plugins import get_registry


def _learned_methods():
    classes = [cls for cls, _plugin in get_registry().methods.values()]
    return [cls for cls in classes if issubclass(cls, TorchMethod) and cls.packaged]


def test_every_table_entry_is_a_shipped_file_with_that_content_hash():
    methods = _learned_methods()
    assert {cls.id for cls in methods} >= {"rtdbd", "selfgen"}
    for cls in methods:
        for name, entry in cls.packaged.table.items():
            path = cls.packaged.path(name)
            assert path is not None, f"{cls.id}: {entry.file} missing"
            assert weights_digest(path) == entry.sha256, f"{cls.id}: {entry.file} does not match its table entry"
        files = {p.name for p in cls.packaged.folder.glob("*.safetensors")}
        assert files == {e.file for e in cls.packaged.table.values()}, f"{cls.id}: unlisted weights files"


def test_a_changed_packaged_file_is_refused_in_one_line(tmp_path):
    rtdbd = get_registry().method("rtdbd")
    source = rtdbd.packaged.folder / rtdbd.packaged.table["lite-plain"].file
    shutil.copyfile(source, tmp_path / "lite.safetensors")
    wrong = PackagedWeights(tmp_path, {"lite": Shipped("lite.safetensors", "0" * 64)})
    with pytest.raises(DbdbenchError, match="packaged weights changed"):
        wrong.verify(tmp_path / "lite.safetensors", weights_digest(tmp_path / "lite.safetensors"))
    assert wrong.path("full") is None


def test_the_table_is_read_from_the_weights_folder_and_a_broken_one_is_refused_in_one_line(tmp_path):
    assert PackagedWeights.from_manifest(tmp_path).table == {}  # a plugin installed without weights
    (tmp_path / PackagedWeights.MANIFEST).write_text(
        '{"lite": {"file": "lite.safetensors", "sha256": "ab", "what": "x"}}'
    )
    table = PackagedWeights.from_manifest(tmp_path).table
    assert table == {"lite": Shipped("lite.safetensors", "ab", {"what": "x"})}
    (tmp_path / PackagedWeights.MANIFEST).write_text('{"lite": {"sha256": "ab"}}')
    with pytest.raises(DbdbenchError, match=r"packaged.json: not a table of shipped weights"):
        PackagedWeights.from_manifest(tmp_path)
