"""``dbdbench plot``: curves in PNG and SVG, one colour per method everywhere, qualitative grids."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from dbdbench.leaderboard.runs import collect_groups
from dbdbench.plots import PALETTE, method_colours, pick_images


@pytest.fixture(scope="module")
def runs(tmp_path_factory, make_runs):
    return make_runs(tmp_path_factory.mktemp("plots"))


def test_colours_are_stable_and_distinct():
    a = method_colours(["gradient", "my-method", "lbp@refine=true", "hifst"])
    b = method_colours(["hifst", "lbp@refine=true", "gradient", "my-method", "dct"])
    assert all(a[k] == b[k] for k in a), "a method's colour must not depend on the other methods listed"
    assert a["gradient"] == PALETTE[0] and b["dct"] == PALETTE[2]
    many = method_colours([f"m{i}" for i in range(len(PALETTE))])
    assert len(set(many.values())) == len(PALETTE)


def test_plot_writes_png_and_svg_curves_and_a_grid(runs, tmp_path, cli):
    out = tmp_path / "fig"
    proc = cli("plot", runs, "--out", out)
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "folder-all-dbd_f.png",
        "folder-all-dbd_f.svg",
        "folder-all-dbd_pr.png",
        "folder-all-dbd_pr.svg",
        "folder-all-dbd_qualitative.png",
    ], names
    assert proc.stdout.count("\n") == 5
    for png in out.glob("*.png"):
        arr = np.asarray(Image.open(png).convert("L"))
        assert arr.shape[0] > 300 and arr.std() > 10, f"{png.name} looks blank"
    colours = method_colours(["test-contrast", "test-contrast@window=3"])
    for svg in out.glob("*.svg"):
        text = svg.read_text()
        for row, colour in colours.items():
            assert row in text, f"{svg.name}: legend lacks {row}"
            assert colour in text, f"{svg.name}: {row} is not drawn in its colour {colour}"
        urls = set(re.findall(r"https?://[^\"' )]+", text))
        assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert (out / "folder-all-dbd_pr.svg").read_text().count("Recall") >= 1


def test_methods_filter_images_and_rank_by(runs, tmp_path, cli):
    out = tmp_path / "fig"
    cli(
        "plot", runs, "--out", out, "--methods", "test-contrast@window=3", "--images", "img 1,img 4", "--rank-by", "mae"
    )
    text = (out / "folder-all-dbd_pr.svg").read_text()
    assert "test-contrast@window=3" in text and "test-contrast (F" not in text
    proc = cli("plot", runs, "--out", out, "--dataset", "nope", check=False)
    assert proc.returncode == 2 and "no result" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("plot", runs, "--out", out, "--rank-by", "stem", check=False)
    assert proc.returncode == 2 and "--rank-by" in proc.stderr


def test_picks_best_median_worst_per_method(runs):
    (group,), problems = collect_groups(runs)
    assert not problems and [e.row for e in group.entries] == sorted(
        (e.row for e in group.entries),
        key=lambda r: -next(x.result.metrics["f_max"] for x in group.entries if x.row == r),
    )
    picks = pick_images(group, "f_max")
    for entry in group.entries:
        rows = sorted(entry.per_image(), key=lambda r: r["f_max"])
        why = " ".join(w for _, w in picks)
        assert f"best {entry.row} (f_max {rows[-1]['f_max']:.3f})" in why
        assert f"worst {entry.row} (f_max {rows[0]['f_max']:.3f})" in why
    assert len({s for s, _ in picks}) == len(picks)


def test_torn_result_is_reported_not_fatal(runs, tmp_path, cli):
    import shutil

    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    next((copy / "test-contrast").glob("*/result.json")).write_text("{torn")
    proc = cli("plot", copy, "--out", tmp_path / "fig", "--no-grid")
    assert "result.json: unreadable" in proc.stderr
    assert (tmp_path / "fig" / "folder-all-dbd_pr.png").exists()
