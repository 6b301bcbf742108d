"""``dbdbench score --protocol all``: one maps folder under every protocol, side by side, each protocol's
numbers exactly those of ``score --protocol P``; refusals reported, not fatal; one result file per protocol."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from dbdbench.protocols import PROTOCOLS


@pytest.fixture(scope="session")
def cli(dbdbench_cli):
    """Wide enough that the side-by-side table is never wrapped."""
    return dbdbench_cli.but(environment={"COLUMNS": "200"})


@pytest.fixture
def folder(tmp_path):
    """Four 8-bit maps and blur-white GT at 60x80 (not 320x320, so sg refuses them), and one map of another
    size in a second folder."""
    rng = np.random.default_rng(51)
    maps, gts, odd = tmp_path / "maps", tmp_path / "gt", tmp_path / "odd"
    for d in (maps, gts, odd):
        d.mkdir()
    for i in range(4):
        focus = np.zeros((60, 80), np.uint8)
        focus[10 + i : 45, 15 : 50 + 5 * i] = 255
        m = np.clip(focus * 0.6 + rng.normal(60, 40, focus.shape), 0, 255).astype(np.uint8)
        Image.fromarray(255 - focus).save(gts / f"p{i}.png")
        Image.fromarray(m).save(maps / f"p{i}.png")
        Image.fromarray(m[::2, ::2] if i == 1 else m).save(odd / f"p{i}.png")
    return maps, gts, odd


def test_side_by_side_equals_each_protocol_alone(folder, tmp_path, cli):
    maps, gts, _ = folder
    common = ("score", "--maps", maps, "--gt", gts, "--gt-polarity", "blur")
    every = json.loads(cli(*common, "--protocol", "all", "--json").stdout)
    assert every["protocols"] == [p for p in PROTOCOLS if p != "sg"]
    assert "320x320" in every["refused"]["sg"] and set(every["results"]) == set(every["protocols"])
    for name in ("dd", "ddffnet", "hifst"):
        alone = json.loads(cli(*common, "--protocol", name, "--json").stdout)
        assert {k: v[name] for k, v in every["metrics"].items()} == alone["metrics"]
        assert every["extra_metrics"][name] == alone["protocol"]["extra_metrics"]

    text = cli(*common, "--protocol", "all", "--out", tmp_path / "out")
    header = next(line for line in text.stdout.splitlines() if "metric" in line)
    assert all(name in header for name in every["protocols"]) and "sg" not in header.split()
    for key in ("mae", "f_max", "f_adaptive", "iou"):
        assert any(line.strip("│┃ ").startswith(key) for line in text.stdout.splitlines())
    assert "protocol sg not scored" in text.stderr and "Traceback" not in text.stderr
    written = {p.name for p in (tmp_path / "out").glob("result*.json")}
    assert written == {"result.json"} | {f"result.{p}.json" for p in every["protocols"] if p != "dbd"}
    saved = json.loads((tmp_path / "out" / "result.dd.json").read_text())
    assert saved["metrics"] == {k: v["dd"] for k, v in every["metrics"].items()}


def test_refusals_are_reported_and_only_a_total_refusal_fails(folder, cli):
    _, gts, odd = folder
    common = ("score", "--maps", odd, "--gt", gts, "--gt-polarity", "blur", "--protocol", "all")
    every = json.loads(cli(*common, "--json").stdout)  # one map at half size: ddffnet refuses, others resize
    assert "ddffnet" in every["refused"] and "resize rule is 'none'" in every["refused"]["ddffnet"]
    assert "dd" in every["protocols"] and "ddffnet" not in every["metrics"]["mae"]
    invalid = cli(*common, "--resize", "none", check=False)  # evp's gt_resize needs a fixed size
    assert invalid.returncode == 2 and "protocol 'evp' with resize=none: " in invalid.stderr
    none = cli(*common, "--resize", "none", "--gt-resize", "none", check=False)  # every protocol refuses p1
    assert none.returncode != 0 and "Traceback" not in none.stderr
    assert len(none.stderr.strip().splitlines()) == 1 and "p1.png" in none.stderr

    run = cli("run", "--method", "gradient", "--protocol", "all", check=False)
    assert run.returncode != 0 and "--protocol all is for 'dbdbench score'" in run.stderr
