"""``dbdbench report``: an offline site with every image, checked in a real (headless) Chromium."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

N_IMAGES = 6
ROWS = ("test-contrast", "test-contrast@window=3")
SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


@pytest.fixture(scope="module")
def site(tmp_path_factory, cli, make_runs):
    root = tmp_path_factory.mktemp("report")
    runs = make_runs(root, n=N_IMAGES)
    # a second group of results: another protocol on the same maps (result.sod.json)
    cli(
        "run",
        "--method",
        "test-contrast",
        "--images",
        root / "images",
        "--gt",
        root / "gt",
        "--gt-polarity",
        "focus",
        "--out",
        runs,
        "--protocol",
        "sod",
    )
    out = root / "site"
    proc = cli("report", runs, "--out", out, "--json")
    summary = json.loads(proc.stdout)
    assert summary["groups"] == [
        {"slug": "folder-all-dbd", "title": "folder (all), protocol dbd, 6 images", "methods": 2, "images": N_IMAGES},
        {"slug": "folder.sod", "title": "folder (all), protocol sod, 6 images", "methods": 1, "images": N_IMAGES},
    ]
    return runs, out


def per_image_csv(runs: Path, row: str) -> Path:
    (path,) = (runs / row).glob("*/per_image.csv")  # the dataset folder may carry a hash: folder@1a2b...
    return path


def page_data(out: Path) -> dict:
    text = (out / "index.html").read_text(encoding="utf-8")
    raw = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', text, re.S).group(1)
    return json.loads(raw)


def test_site_has_every_image_and_only_local_references(site):
    runs, out = site
    data = page_data(out)
    group = data["groups"][0]
    assert len(data["groups"]) == 2 and {m["row"] for m in group["methods"]} == set(ROWS)
    assert len({m["colour"] for m in group["methods"]}) == len(ROWS)
    assert len(group["images"]) == N_IMAGES and len(group["rows"]) == N_IMAGES * len(ROWS)
    for image in group["images"]:
        for rel in [image["photo"], image["gt"], *image["maps"]]:
            assert rel and (out / rel).is_file(), f"{image['stem']}: {rel} missing"
            assert Image.open(out / rel).size == (80, 60)
    full = (out / "leaderboard.html").read_text(encoding="utf-8")  # rendered by dbdbench.leaderboard
    assert all(row in full for row in ROWS) and "sod" in full
    text = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="leaderboard.html"' in text
    for ref in re.findall(r'(?:src|href)="([^"#]+)"', text):
        assert (out / html.unescape(ref)).is_file(), f"index.html refers to {ref}, which is not in the site"
    for path in out.rglob("*"):
        if path.suffix in (".html", ".js", ".css", ".svg"):
            urls = set(re.findall(r"[a-z]+://[^\"'\s)<>]+", path.read_text(encoding="utf-8")))
            allowed = SVG_NAMESPACES if path.suffix == ".svg" else set()
            assert urls <= allowed, f"{path.relative_to(out)} refers to {urls - allowed}"
    # the table's numbers are the per-image CSV's
    per_image = pd.read_csv(per_image_csv(runs, "test-contrast")).set_index("stem")
    mi = [m["row"] for m in group["methods"]].index("test-contrast")
    col = group["columns"].index("mae")
    for row in group["rows"]:
        if row[1] == mi:
            assert row[2 + col] == pytest.approx(per_image.loc[group["images"][row[0]]["stem"], "mae"], abs=1e-6)
    assert group["directions"]["mae"] == "lower" and group["directions"]["f_max"] == "higher"


def test_rebuilding_replaces_the_site_and_empty_runs_fail(site, tmp_path, cli):
    runs, out = site
    proc = cli("report", tmp_path, "--out", tmp_path / "site", check=False)
    assert proc.returncode == 2 and "no result" in proc.stderr and "Traceback" not in proc.stderr
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    cli("report", runs, "--out", copy, "--methods", "test-contrast@window=3")
    (group,) = page_data(copy)["groups"]  # the sod result is test-contrast's, left out too
    assert [m["row"] for m in group["methods"]] == ["test-contrast@window=3"]
    assert not list((copy / "img").rglob("m1.jpg")), "maps of a method left out must not linger"
    assert [p.name for p in (copy / "img").iterdir()] == ["folder-all-dbd"], "nor images of a group left out"
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    proc = cli("report", runs, "--out", tmp_path / "mine", check=False)
    assert proc.returncode == 2 and "not empty" in proc.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"


# ------------------------------------------------------------------ in a real browser


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it): "
        "the report's browser checks did not run"
    )


def browse(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    args = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=15000",
        *extra,
        url,
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_browser_self_test_clicks_sorts_filters_and_loads_images(site, tmp_path):
    _, out = site
    proc = browse(tmp_path, (out / "index.html").as_uri() + "#selftest", "--dump-dom")
    match = re.search(r'<pre id="selftest-result"[^>]*data-status="(\w+)"[^>]*>(.*?)</pre>', proc.stdout, re.S)
    assert match, f"the self-test did not finish: {proc.stderr[-2000:]}"
    report = json.loads(html.unescape(match.group(2)))
    assert match.group(1) == "pass", report["failures"]
    assert report["groups"] == ["folder-all-dbd", "folder.sod"], "the self-test walks every group through the select"
    assert report["images_checked"] == (2 + len(ROWS)) + (2 + 1) and report["images_loaded"] == report["images_checked"]
    assert {"stem", "method", "mae", "f_max"} <= set(report["columns"]) and report["external"] == []


def test_sorting_and_filtering_from_the_url(site, tmp_path):
    runs, out = site
    url = (out / "index.html").as_uri() + "#m=test-contrast&sort=mae&dir=desc&img=img%203"
    dom = browse(tmp_path, url, "--dump-dom").stdout
    body = re.search(r'<table id="per-image".*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    rows = re.findall(r'<tr data-stem="([^"]+)" data-method="([^"]+)"', body)
    assert {m for _, m in rows} == {"test-contrast"} and len(rows) == N_IMAGES
    expected = pd.read_csv(per_image_csv(runs, "test-contrast")).sort_values("mae", ascending=False, kind="stable")
    assert [s for s, _ in rows] == list(expected["stem"])
    assert '<h3 id="viewer-title">img 3</h3>' in dom
    viewer = re.search(r'<div id="viewer-cells"[^>]*>(.*?)</div>\s*</div>\s*<p class="hint"', dom, re.S).group(1)
    assert len(re.findall(r"<img ", viewer)) == 2 + len(ROWS)


def test_screenshot_is_not_blank(site, tmp_path):
    _, out = site
    shot = tmp_path / "page.png"
    browse(tmp_path, (out / "index.html").as_uri() + "#img=img%202", "--window-size=1280,1800", f"--screenshot={shot}")
    assert shot.is_file(), "Chromium wrote no screenshot"
    arr = np.asarray(Image.open(shot).convert("RGB")).astype(np.int16)
    assert arr.shape[:2] == (1800, 1280)
    not_white = (arr < 235).any(axis=2).mean()
    colours = len(np.unique(arr.reshape(-1, 3)[::7], axis=0))
    assert not_white > 0.05 and colours > 200, f"screenshot looks blank ({not_white:.1%} non-white, {colours} colours)"
