"""``register_protocols``: built-in protocols come through it, a plugin's protocol is used like a built-in one
(``list protocols``, ``score --protocol NAME``, ``score --protocol all``), broken protocol plugins are reported
and skipped, and docs/hooks.md documents every option a protocol has."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dbdbench.errors import DbdbenchError, PluginError
from dbdbench.plugins import build_registry
from dbdbench.protocols import PROTOCOLS, Protocol, available_protocols, get_protocol

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
HOOKS_MD = REPO / "docs" / "hooks.md"


@pytest.fixture
def broken(monkeypatch):
    """tests/protocol_plugin_broken.py: one class per way a protocol plugin can be broken."""
    import importlib

    monkeypatch.syspath_prepend(str(TESTS))
    return importlib.import_module("protocol_plugin_broken")


@pytest.fixture
def maps_and_gt(tmp_path):
    """Three 8-bit maps (in-focus white) and focus-white GT of the same sizes."""
    rng = np.random.default_rng(11)
    maps, gts = tmp_path / "maps", tmp_path / "gt"
    maps.mkdir(), gts.mkdir()
    for i, shape in enumerate([(40, 60), (48, 48), (30, 70)]):
        gt = np.zeros(shape, np.uint8)
        gt[:, : shape[1] // (i + 2)] = 255
        noisy = np.clip(gt * 0.7 + rng.normal(40, 50, shape), 0, 255).astype(np.uint8)
        Image.fromarray(gt).save(gts / f"im{i}.png")
        Image.fromarray(noisy).save(maps / f"im{i}.png")
    return maps, gts


# ------------------------------------------------------------------ the registry


def test_builtin_protocols_register_through_the_hook():
    reg = build_registry()
    record = next(p for p in reg.plugins if p.name == "dbdbench.builtin_protocols")
    assert record.status == "loaded" and record.source == "builtin"
    assert record.protocols == list(PROTOCOLS) and list(reg.protocols) == list(PROTOCOLS)
    assert all(reg.protocols[name][0] is PROTOCOLS[name] for name in PROTOCOLS)
    assert {"dd", "ddffnet", "hifst", "sg", "sod", "dbd"} <= set(available_protocols())


def test_a_plugin_protocol_is_used_like_a_builtin(monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.setenv("DBDBENCH_EXTRA_PLUGINS", "protocol_plugin")
    protocol = get_protocol("test-pooled-blur")
    assert protocol.aggregation == "pixel" and protocol.positive == "blur"
    assert list(available_protocols())[-1] == "test-pooled-blur"  # after the built-in ones
    custom = get_protocol("test-pooled-blur", fixed_threshold=0.4)
    assert custom.name == "test-pooled-blur+custom" and custom.source == "tests/protocol_plugin.py"


@pytest.mark.parametrize(
    "plugin, message",
    [
        ("NotAProtocol", "expected a dbdbench.protocols.Protocol instance"),
        ("BadOption", "positive='sideways'"),
        ("BadName", "lower-case id"),
        ("UnknownMetric", "'accuracy' are not metrics"),
        ("RaisesHalfway", "broken inside its hook"),
    ],
)
def test_broken_protocol_plugins_are_reported_and_skipped(broken, plugin, message):
    reg = build_registry(extra_plugins=[("broken", getattr(broken, plugin))])
    record = next(p for p in reg.plugins if p.name == "broken")
    assert record.status == "failed" and message in record.error, record.error
    assert record.protocols == []  # all or nothing: a hook that fails half-way registers none
    assert list(reg.protocols) == list(PROTOCOLS)  # every built-in protocol is still there
    assert "first-of-two" not in reg.protocols
    with pytest.raises(DbdbenchError, match="plugins that failed to load: broken"):
        reg.protocol("first-of-two")


def test_a_second_protocol_of_one_name_is_an_error_naming_both(broken):
    reg = build_registry(extra_plugins=[("shadow", broken.TakesBuiltinName)])
    with pytest.raises(PluginError, match=r"'dbd'.*dbdbench.builtin_protocols.*and.*shadow"):
        reg.protocol("dbd")
    assert reg.protocol("sod") is PROTOCOLS["sod"]  # only the contested name is affected


def test_strict_mode_makes_a_broken_protocol_plugin_fatal(broken, monkeypatch):
    monkeypatch.setenv("DBDBENCH_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="broken"):
        build_registry(extra_plugins=[("broken", broken.BadOption)])


# ------------------------------------------------------------------ the command line


def test_plugin_protocol_is_listed_and_scores(maps_and_gt, dbdbench_cli):
    maps, gts = maps_and_gt
    env = {"DBDBENCH_EXTRA_PLUGINS": "protocol_plugin", "DBDBENCH_STRICT_PLUGINS": "1"}
    rows = {r["name"]: r for r in json.loads(dbdbench_cli("list", "protocols", "--json", **env).stdout)}
    assert rows["test-pooled-blur"]["plugin"] == "protocol_plugin"
    assert rows["dd"]["plugin"] == "dbdbench.builtin_protocols"
    text = dbdbench_cli("list", "protocols", **env).stdout
    assert "test-pooled-blur" in text and "plugin: protocol_plugin" in text

    args = ("score", "--maps", maps, "--gt", gts, "--gt-polarity", "focus", "--json")
    result = json.loads(dbdbench_cli(*args, "--protocol", "test-pooled-blur", **env).stdout)
    assert result["protocol"]["name"] == "test-pooled-blur" and result["protocol"]["aggregation"] == "pixel"
    # pooled F of the blurred class at map < 0.5, computed here from the files
    tp = predicted = positive = 0
    for m_path in sorted(maps.iterdir()):
        blur_pred = np.asarray(Image.open(m_path)) / 255 <= 0.5
        blur_gt = np.asarray(Image.open(gts / m_path.name)) <= 127
        tp, predicted, positive = (
            tp + (blur_pred & blur_gt).sum(),
            predicted + blur_pred.sum(),
            positive + blur_gt.sum(),
        )
    p, r = tp / predicted, tp / positive
    assert result["metrics"]["f_fixed"] == pytest.approx(1.3 * p * r / (0.3 * p + r), abs=1e-12)

    every = json.loads(dbdbench_cli(*args, "--protocol", "all", **env).stdout)
    assert every["protocols"][-1] == "test-pooled-blur" and every["refused"]["sg"].endswith(
        "(score the Zhao lab's 320x320 release instead, e.g. --dataset xu100 for CUHK-TE-1, or add --resize bilinear "
        "to score at GT resolution)"
    )
    assert every["metrics"]["f_fixed"]["test-pooled-blur"] == result["metrics"]["f_fixed"]


def test_cli_survives_a_broken_protocol_plugin(maps_and_gt, dbdbench_cli):
    maps, gts = maps_and_gt
    env = {"DBDBENCH_EXTRA_PLUGINS": "protocol_plugin_bad_module,protocol_plugin"}
    proc = dbdbench_cli("score", "--maps", maps, "--gt", gts, "--gt-polarity", "focus", "--protocol", "dd", **env)
    assert "protocol_plugin_bad_module" in proc.stderr and "Traceback" not in proc.stderr
    assert "dd" in proc.stdout


# ------------------------------------------------------------------ docs/hooks.md


def test_every_protocol_field_is_documented():
    text = HOOKS_MD.read_text(encoding="utf-8")
    start = text.index("## `register_protocols(register)`")
    section = text[start : text.index("\n## ", start + 1)]
    missing = [f.name for f in dataclasses.fields(Protocol) if f"| `{f.name}` |" not in section]
    assert not missing, f"Protocol fields not in docs/hooks.md's register_protocols table: {missing}"


def test_hooks_md_protocol_example_loads_and_scores(tmp_path, maps_and_gt, dbdbench_cli):
    maps, gts = maps_and_gt
    blocks = re.findall(
        r"^```python\n(# my_protocol_plugin\.py\n.*?)^```", HOOKS_MD.read_text(encoding="utf-8"), re.M | re.S
    )
    assert len(blocks) == 1
    (tmp_path / "my_protocol_plugin.py").write_text(blocks[0], encoding="utf-8")
    env = {"PYTHONPATH": str(tmp_path), "DBDBENCH_EXTRA_PLUGINS": "my_protocol_plugin", "DBDBENCH_STRICT_PLUGINS": "1"}
    assert "mylab" in dbdbench_cli("list", "protocols", **env).stdout
    result = json.loads(
        dbdbench_cli(
            "score", "--maps", maps, "--gt", gts, "--gt-polarity", "focus", "--protocol", "mylab", "--json", **env
        ).stdout
    )
    assert result["protocol"]["source"] == "mylab/dbd-eval eval.py" and 0 < result["metrics"]["f_fixed"] <= 1
