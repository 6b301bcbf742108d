"""``score/run --ci``, ``dbdbench compare`` and ``dbdbench leaderboard --ci``, in process through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dbdbench.cli.app import main

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent


def dbdbench(*args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def maps(tmp_path):
    """GT of 16 images and three map folders: 'good' (close to the GT), 'fair' (a little worse), 'poor'."""
    rng = np.random.default_rng(0)
    gt_dir = tmp_path / "gt"
    gt_dir.mkdir()
    folders = {name: tmp_path / name for name in ("good", "fair", "poor")}
    for folder in folders.values():
        folder.mkdir()
    for i in range(16):
        gt = np.zeros((24, 32), np.uint8)
        gt[:, : 8 + i] = 255
        Image.fromarray(gt).save(gt_dir / f"im{i:02d}.png")
        for name, noise in (("good", 40), ("fair", 46), ("poor", 120)):
            m = np.clip(gt * 0.7 + 40 + rng.normal(0, noise, gt.shape), 0, 255).astype(np.uint8)
            Image.fromarray(m).save(folders[name] / f"im{i:02d}.png")
    return gt_dir, folders


def score(gt_dir, folder, out, *extra) -> dict:
    args = ["score", "--maps", folder, "--gt", gt_dir, "--gt-polarity", "focus", "--out", out, *extra]
    assert dbdbench(*args) == 0
    return json.loads(next(Path(out).glob("result*.json")).read_text())


def test_score_ci_adds_the_ci_record_and_per_image_data(maps, tmp_path, capsys):
    gt_dir, folders = maps
    result = score(gt_dir, folders["good"], tmp_path / "a", "--ci", "0.9", "--json")
    ci = result["ci"]
    assert list(ci) == ["level", "method", "resamples", "seed", "metrics"]
    assert ci["level"] == 0.9 and ci["resamples"] == 1000 and ci["seed"] == 0
    assert set(ci["metrics"]) == set(result["metrics"])
    for k, (lo, hi) in ci["metrics"].items():
        assert lo - 1e-9 <= result["metrics"][k] <= hi + 1e-9
    assert list(result)[list(result).index("metrics") + 1] == "ci"
    assert result["per_image_data"] == "per_image.npz" and (tmp_path / "a" / "per_image.npz").is_file()
    printed = json.loads(capsys.readouterr().out)
    assert printed["ci"] == ci
    again = score(gt_dir, folders["good"], tmp_path / "b", "--ci", "0.9")
    assert again["ci"] == ci  # a rerun gives the same intervals
    assert (tmp_path / "a" / "per_image.npz").read_bytes() == (tmp_path / "b" / "per_image.npz").read_bytes()
    assert "ci" not in score(gt_dir, folders["good"], tmp_path / "c")


def test_ci_options_are_checked(maps, tmp_path, capsys):
    gt_dir, folders = maps
    assert dbdbench("score", "--maps", folders["good"], "--gt", gt_dir, "--gt-polarity", "focus", "--ci", "95") == 2
    assert "between 0 and 1" in capsys.readouterr().err
    args = ("score", "--maps", folders["good"], "--gt", gt_dir, "--gt-polarity", "focus", "--ci", "0.95")
    assert dbdbench(*args, "--resamples", "100") == 2


def test_compare_reports_paired_differences(maps, tmp_path, capsys):
    gt_dir, folders = maps
    for name in ("good", "fair", "poor"):
        score(gt_dir, folders[name], tmp_path / name)
    capsys.readouterr()
    assert dbdbench("compare", tmp_path / "good", tmp_path / "poor", "--json", "--combine", "f_max-mae") == 0
    out = json.loads(capsys.readouterr().out)
    a = json.loads((tmp_path / "good" / "result.json").read_text())["metrics"]
    b = json.loads((tmp_path / "poor" / "result.json").read_text())["metrics"]
    assert out["n_images"] == 16 and out["ci"]["resamples"] == 1000 and "paired" in out["ci"]["method"]
    assert "two-sided" in out["p_value"]
    rows = out["metrics"]
    assert set(rows) == set(a) | {"f_max-mae"}
    for k in a:
        assert rows[k]["a"] == a[k] and rows[k]["b"] == b[k] and rows[k]["diff"] == pytest.approx(a[k] - b[k])
        lo, hi = rows[k]["interval"]
        assert lo - 1e-9 <= rows[k]["diff"] <= hi + 1e-9
    assert rows["f_max-mae"]["diff"] == pytest.approx(a["f_max"] - a["mae"] - b["f_max"] + b["mae"])
    # good vs poor: a real difference; p at its floor, the interval away from 0
    assert rows["mae"]["interval"][1] < 0 and rows["mae"]["p_value"] == pytest.approx(2 / 1001)
    # good vs fair: a small difference, a narrow paired interval around it
    assert dbdbench("compare", tmp_path / "good", tmp_path / "fair", "--json") == 0
    close = json.loads(capsys.readouterr().out)["metrics"]["mae"]
    assert close["interval"][0] <= close["diff"] <= close["interval"][1] and abs(close["diff"]) < 0.02
    # the table
    assert dbdbench("compare", tmp_path / "good" / "result.json", tmp_path / "poor") == 0
    text = capsys.readouterr().out
    assert "95% interval of A - B" in text and "mae" in text and "Paired percentile bootstrap" in text


def test_compare_refuses_other_file_lists_protocols_and_old_results(maps, tmp_path, capsys):
    gt_dir, folders = maps
    score(gt_dir, folders["good"], tmp_path / "good")
    score(gt_dir, folders["poor"], tmp_path / "sod", "--protocol", "sod")
    subset = tmp_path / "subset.txt"
    subset.write_text("\n".join(f"im{i:02d}" for i in range(10)) + "\n")
    score(gt_dir, folders["poor"], tmp_path / "ten", "--subset", subset)
    capsys.readouterr()

    def refused(a, b) -> str:
        assert dbdbench("compare", a, b) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
        return err

    assert "different protocols: A dbd, B sod" in refused(tmp_path / "good", tmp_path / "sod")
    err = refused(tmp_path / "good", tmp_path / "ten")
    assert "different file lists" in err and "16 images" in err and "10 images" in err and "6 images only in A" in err
    old = json.loads((tmp_path / "good" / "result.json").read_text())
    del old["per_image_data"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert "no per-image data" in refused(tmp_path / "old.json", tmp_path / "good")
    assert "no result*.json" in refused(tmp_path, tmp_path / "good")
    (tmp_path / "good" / "result.sod.json").write_text((tmp_path / "sod" / "result.sod.json").read_text())
    assert "holds 2 results" in refused(tmp_path / "good", tmp_path / "sod")
    (tmp_path / "stale").mkdir()
    stale = json.loads((tmp_path / "ten" / "result.subset-subset.json").read_text())
    stale["metrics"]["mae"] += 0.01
    (tmp_path / "stale" / "result.json").write_text(json.dumps(stale))
    (tmp_path / "stale" / "per_image.npz").write_bytes((tmp_path / "ten" / "per_image.subset-subset.npz").read_bytes())
    stale["per_image_data"] = "per_image.npz"
    (tmp_path / "stale" / "result.json").write_text(json.dumps(stale))
    assert "per-image data give mae" in refused(tmp_path / "stale", tmp_path / "ten" / "result.subset-subset.json")


def test_run_ci_through_the_cli(tmp_path, cli):
    """``run --ci`` on a method (the test plugin), in a subprocess as users run it."""
    gt_dir, images = tmp_path / "gt", tmp_path / "images"
    gt_dir.mkdir(), images.mkdir()
    rng = np.random.default_rng(1)
    for i in range(5):
        gt = np.zeros((24, 32), np.uint8)
        gt[:, : 10 + i] = 255
        tex = rng.random((24, 32, 3)) * 255
        img = np.where(gt[..., None] > 0, tex, 128).astype(np.uint8)
        Image.fromarray(img).save(images / f"p{i}.png")
        Image.fromarray(gt).save(gt_dir / f"p{i}.png")
    args = ["run", "--method", "test-contrast", "--images", images, "--gt", gt_dir, "--gt-polarity", "focus"]
    proc = cli(*args, "--out", tmp_path / "runs", "--ci", "0.95", "--json")
    result = json.loads(proc.stdout)
    assert set(result["ci"]["metrics"]) == set(result["metrics"]) and result["per_image_data"] == "per_image.npz"
    run_dir = next((tmp_path / "runs" / "test-contrast").iterdir())
    assert (run_dir / "per_image.npz").is_file() and json.loads((run_dir / "result.json").read_text())["ci"]


def test_docs_results_md_lists_the_ci_keys():
    doc = (REPO / "docs" / "results.md").read_text(encoding="utf-8")
    block = re.search(r'\n  "ci": \{(.*?)\n  \},', doc, re.S)
    assert block, "docs/results.md shows no 'ci' record"
    top = re.sub(r"\{[^{}]*\}", "{}", re.sub(r"//[^\n]*", "", block.group(1)))  # the record's own keys only
    assert re.findall(r'"(\w+)":', top) == ["level", "method", "resamples", "seed", "metrics"]
    assert '"per_image_data"' in doc and "dbdbench compare" in doc and "leaderboard --ci" in doc


# ------------------------------------------------------------------ leaderboard --ci


def saved_board(maps, tmp_path) -> Path:
    """Three rows of one table under a leaderboard folder: good and fair with --ci, poor without."""
    gt_dir, folders = maps
    board = tmp_path / "board"
    for name in ("good", "fair", "poor"):
        extra = ["--ci", "0.95"] if name != "poor" else []
        args = ["score", "--maps", folders[name], "--gt", gt_dir, "--gt-polarity", "focus", "--name", name]
        assert dbdbench(*args, *extra, "--save-to-leaderboard", "--leaderboard-dir", board) == 0
    return board


def test_leaderboard_ci_renders_intervals_and_marks(maps, tmp_path, capsys):
    board = saved_board(maps, tmp_path)
    assert sorted(p.name for p in (board / "folder").iterdir()) == [
        "fair.json",
        "fair.per_image.npz",
        "good.json",
        "good.per_image.npz",
        "poor.json",
        "poor.per_image.npz",
    ]
    capsys.readouterr()
    assert dbdbench("leaderboard", board, "--ci") == 0
    md = capsys.readouterr().out
    row = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| `")}
    good = json.loads((board / "folder" / "good.json").read_text())
    lo, hi = good["ci"]["metrics"]["mae"]
    assert f"**{good['metrics']['mae']:.3f} [{lo:.3f}, {hi:.3f}]**" in row["`good†`"]
    assert "≈" in row["`fair†`"]  # fair is close to good: not significantly different on some metric
    assert "[" not in row["`poor†`"] and "≈" not in row["`poor†`"]  # no --ci, and clearly worse (paired data)
    assert "[lo, hi]: the confidence interval of each value" in md and "No interval for `poor`" in md
    assert "paired bootstrap interval of the difference contains 0" in md and "overlap" not in md
    # without per-image data, the rule falls back to overlapping intervals, and says so
    (board / "folder" / "fair.per_image.npz").unlink()
    assert dbdbench("leaderboard", board, "--ci") == 0
    assert "for `fair` (no per-image data) the two intervals overlap" in capsys.readouterr().out
    # without --ci the table is as before
    assert dbdbench("leaderboard", board) == 0
    assert "[lo, hi]" not in capsys.readouterr().out


def test_leaderboard_ci_formats_and_check(maps, tmp_path, capsys, monkeypatch):
    board = saved_board(maps, tmp_path)
    for path in (board / "folder").glob("*.json"):  # as if made from a clean checkout (--check refuses -dirty)
        obj = json.loads(path.read_text())
        obj["environment"]["git_revision"] = "0123456789ab"
        path.write_text(json.dumps(obj))
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert dbdbench("leaderboard", "board", "--ci", "--format", "csv") == 0
    csv = capsys.readouterr().out.splitlines()
    header = csv[0].split(",")
    assert {"mae_ci_lo", "mae_ci_hi", "mae_tied_with_best"} <= set(header)
    assert dbdbench("leaderboard", "board", "--ci", "--format", "latex") == 0
    latex = capsys.readouterr().out
    assert "[" in latex and "≈" not in latex  # the mark is written as LaTeX ($\approx$)
    (tmp_path / "tables").mkdir()
    assert dbdbench("leaderboard", "board", "--ci", "--no-timing", "--out", "tables/t.md") == 0
    head = (tmp_path / "tables" / "t.md").read_text().splitlines()[0]
    assert "dbdbench leaderboard board --no-timing --ci --out tables/t.md" in head
    capsys.readouterr()
    assert dbdbench("leaderboard", "--check", "--tables", "tables") == 0
    assert "ok: tables/t.md" in capsys.readouterr().err
    # a changed per-image file changes the marks: --check notices
    (board / "folder" / "fair.per_image.npz").unlink()
    assert dbdbench("leaderboard", "--check", "--tables", "tables") == 2
