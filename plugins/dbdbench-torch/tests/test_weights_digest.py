"""Issue 27: ``weights_sha256`` is a content hash: identical tensors give one hash, whatever the file's header."""

from __future__ import annotations

import hashlib

import torch
from dbdbench_torch.weights import save_weights, weights_digest
from safetensors.torch import save_file


def _net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))


def test_identical_tensors_give_one_hash_whatever_the_metadata_and_its_order(tmp_path):
    a = save_weights(_net(), tmp_path / "a.safetensors", metadata={"step": 10, "options": {"x": 1, "y": 2}})
    b = save_weights(_net(), tmp_path / "b.safetensors", metadata={"options": {"y": 2, "x": 1}, "note": "other"})
    state = {k: v.contiguous() for k, v in reversed(list(_net().state_dict().items()))}
    save_file(state, str(tmp_path / "c.safetensors"), metadata={"z": "1", "a": "2"})
    assert a == b == weights_digest(tmp_path / "c.safetensors")
    files = [hashlib.sha256((tmp_path / f"{n}.safetensors").read_bytes()).hexdigest() for n in "abc"]
    assert len(set(files)) > 1  # the files' bytes differ; the content hash does not


def test_any_change_of_a_tensor_name_dtype_shape_or_value_changes_the_hash(tmp_path):
    base = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    variants = {
        "base": base,
        "value": {"w": base["w"].clone().index_put_((torch.tensor(0), torch.tensor(0)), torch.tensor(0.5))},
        "name": {"v": base["w"]},
        "shape": {"w": base["w"].reshape(3, 2).contiguous()},
        "dtype": {"w": base["w"].to(torch.float64)},
    }
    digests = {}
    for key, state in variants.items():
        save_file(state, str(tmp_path / f"{key}.safetensors"))
        digests[key] = weights_digest(tmp_path / f"{key}.safetensors")
    assert len(set(digests.values())) == len(digests)
