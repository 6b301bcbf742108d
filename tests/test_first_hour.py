"""What a new user meets in the first hour (issue 27, items 5-10): every message names what happened and the fix.

Argument handling and one-line messages go through ``dbdbench.cli.main`` in this process (``cli.in_process``);
what depends on the process (progress lines on a pipe, the exit code of an interrupted
``train``) and the help texts run the real command.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def cli(fake_cli):
    """The reliability suite's fake methods, and first_hour_plugins' fake learned method with its trainer."""
    return fake_cli.but(plugins="first_hour_plugins,reliability_plugins")


def only(parent: Path, pattern: str) -> Path:
    (found,) = sorted(parent.glob(pattern))
    return found


# ---------------------------------------------------------------------------- wording


def test_counted_nouns_and_partial_counts():
    from dbdbench.datasets.naming import common_suffix
    from dbdbench.wording import images_of, is_partial, plural

    assert (plural(1, "image"), plural(2, "image"), plural(0, "entry", "entries")) == (
        "1 image",
        "2 images",
        "0 entries",
    )
    assert images_of({"n_images": 1}) == "1 image" and images_of({"n_images": 200}) == "200 images"
    assert images_of({"n_images": 5, "n_expected": 500}) == "5 of 500 images"  # a partial copy of a release
    assert images_of({"n_images": 20, "n_available": 200}) == "20 of 200 images"  # a --limit run
    assert images_of({"n_images": 2, "n_expected": 500, "n_available": 5}) == "2 of 500 images"
    assert not is_partial({"n_images": 500, "n_expected": 500}) and is_partial({"n_images": 2, "n_available": 3})
    assert common_suffix(["1", "2", "10"], ["1_gt", "2_gt", "10_gt"]) == "_gt"
    assert common_suffix(["a", "b"], ["a_HiFSTBlurMap", "b_HiFSTBlurMap"]) == "_HiFSTBlurMap"
    assert common_suffix(["a", "b", "c", "d"], ["a_x", "zz"]) is None  # one coincidence is not advice
    assert common_suffix(["a"], ["b"]) is None


# ---------------------------------------------------------------------------- 7. names, corrupt files, summaries


def suffixed_dataset(root: Path, marked_photos, n: int = 3):
    """Photos ``im00.png`` with masks ``im00_gt.bmp``, as some releases name them."""
    data = marked_photos.folder(root, n=n)
    for p in sorted(data.gt.iterdir()):
        p.rename(data.gt / f"{p.stem}_gt.bmp")
    return data


def test_gt_named_differently_names_both_and_offers_gt_suffix(tmp_path, monkeypatch, cli, marked_photos):
    data = suffixed_dataset(tmp_path, marked_photos)
    out = tmp_path / "runs"
    proc = cli.in_process(monkeypatch, *data.run_args("fake-sharp", out=out))
    line = proc.error_line("im00.png", "no ground truth", "im00_gt.bmp", "--gt-suffix _gt", "--skip-bad")
    assert "3 of 3 images" in line
    proc = cli.in_process(monkeypatch, *data.run_args("fake-sharp", "--skip-bad", out=out))
    proc.error_line("no image could be predicted", "first reason", "--gt-suffix _gt")
    proc = cli.in_process(monkeypatch, *data.run_args("fake-sharp", "--gt-suffix", "_gt", "--json", out=out))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["n_images"] == 3 and result["dataset"]["gt_suffix"] == "_gt"

    # score: maps named like the photos, GT with the suffix; then maps with their own suffix
    maps = tmp_path / "maps"
    maps.mkdir()
    for i in range(3):
        Image.fromarray(marked_photos.mask()).save(maps / f"im{i:02d}.png")
    score = data.score_args(maps)
    cli.in_process(monkeypatch, *score).error_line("3 of 3 GT images have no map", "--gt-suffix _gt")
    proc = cli.in_process(monkeypatch, *score, "--gt-suffix", "_gt", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["metrics"]["f_max"] == pytest.approx(1.0)
    for p in sorted(maps.iterdir()):
        p.rename(maps / f"{p.stem}_HiFSTBlurMap.png")
    proc = cli.in_process(monkeypatch, *score, "--gt-suffix", "_gt")
    proc.error_line("im00_HiFSTBlurMap.png", "--map-suffix _HiFSTBlurMap")
    proc = cli.in_process(monkeypatch, "score", "--maps", maps, "--dataset", "cuhk", "--gt-suffix", "_gt")
    proc.error_line("--gt-suffix applies to a folder dataset")


def test_corrupt_maps_name_the_fix_and_skips_are_sentences(tmp_path, monkeypatch, cli, marked_photos):
    data = marked_photos.folder(tmp_path, n=3)
    out = tmp_path / "runs"
    assert cli.in_process(monkeypatch, *data.run_args("fake-sharp", out=out)).returncode == 0
    cached = only(out / "fake-sharp", "folder*") / "maps" / "im01.png"
    cached.write_bytes(cached.read_bytes()[:60])
    cli.in_process(monkeypatch, *data.run_args("fake-sharp", out=out)).error_line("im01.png", "--force")
    assert cli.in_process(monkeypatch, *data.run_args("fake-sharp", "--force", out=out)).returncode == 0

    maps = tmp_path / "maps"
    shutil.copytree(cached.parent, maps)
    (maps / "im02.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    score = data.score_args(maps)
    cli.in_process(monkeypatch, *score).error_line("im02.png", "--skip-bad")
    proc = cli.in_process(monkeypatch, *score, "--skip-bad")
    assert proc.returncode == 0, proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("skipped")]
    assert line.startswith("skipped 1 image (") and "the first, im02:" in line and "im02.png" in line
    assert "{" not in line and "'stem'" not in line
    assert "2 images)" in proc.stdout  # the table's title counts what was scored


# ---------------------------------------------------------------------------- 9. partial runs say "N of M"


def test_limit_runs_are_marked_n_of_m_in_tables_figures_and_report(tmp_path, monkeypatch, cli, marked_photos):
    data = marked_photos.folder(tmp_path, n=5)
    out = tmp_path / "runs"
    proc = cli.in_process(monkeypatch, *data.run_args("fake-sharp", "--limit", "2", out=out))
    assert proc.returncode == 0, proc.stderr
    assert "2 of 5 images" in proc.stdout
    result = json.loads(only(out / "fake-sharp", "folder*/result.limit2.json").read_text())
    assert result["dataset"]["n_available"] == 5 and result["n_images"] == 2
    assert cli.in_process(monkeypatch, *data.run_args("fake-sharp", out=out)).returncode == 0

    board = cli.in_process(monkeypatch, "leaderboard", out, "--no-timing").stdout
    assert "· 2 of 5 images ·" in board and "· 5 images ·" in board and "5 of 5" not in board

    site = tmp_path / "site"
    proc = cli.in_process(monkeypatch, "report", out, "--out", site, "--json")
    assert proc.returncode == 0, proc.stderr
    titles = [g["title"] for g in json.loads(proc.stdout)["groups"]]
    assert titles == ["folder (all), protocol dbd, 5 images", "folder (all), protocol dbd, 2 of 5 images"]
    page = (site / "index.html").read_text(encoding="utf-8")
    assert page.count('class="warn partial"') == 1 and "Partial data: 2 of 5 images" in page

    figures = tmp_path / "figures"
    proc = cli.in_process(monkeypatch, "plot", out, "--out", figures, "--no-grid")
    assert proc.returncode == 0, proc.stderr
    assert "2 of 5 images" in (figures / "folder.limit2_pr.svg").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- 8. report columns and run filters


def test_report_labels_run_timing_and_shows_predict_time_in_ms(tmp_path, monkeypatch, cli, marked_photos):
    data = marked_photos.folder(tmp_path, n=3)
    out = tmp_path / "runs"
    assert cli.in_process(monkeypatch, *data.run_args("fake-sharp", out=out)).returncode == 0
    site = tmp_path / "site"
    assert cli.in_process(monkeypatch, "report", out, "--out", site).returncode == 0
    page = (site / "index.html").read_text(encoding="utf-8")
    assert "run ms/image (median)" in page and "dbdbench bench" in page and 'title="1 worker' in page
    data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page, re.S)[1])
    group = data["groups"][0]
    assert "predict_ms" in group["columns"] and "predict_s" not in group["columns"]
    assert group["directions"]["predict_ms"] == "lower"
    import csv

    with open(only(out / "fake-sharp", "folder*/per_image.csv"), newline="") as fh:
        seconds = {r["stem"]: float(r["predict_s"]) for r in csv.DictReader(fh)}
    col = 2 + group["columns"].index("predict_ms")
    for row in group["rows"]:
        assert row[col] == pytest.approx(seconds[group["images"][row[0]]["stem"]] * 1000, abs=1e-3)


@pytest.fixture
def two_runs(tmp_path, monkeypatch, cli, marked_photos) -> Path:
    """fake-sharp and fake-fast run on the same three photos: the runs folder."""
    data = marked_photos.folder(tmp_path, n=3)
    out = tmp_path / "runs"
    for method in ("fake-sharp", "fake-fast"):
        assert cli.in_process(monkeypatch, *data.run_args(method, out=out)).returncode == 0
    return out


def test_plot_and_report_choose_runs_by_method_and_dataset(tmp_path, monkeypatch, cli, two_runs):
    out = two_runs
    site = tmp_path / "site"
    filters = ("--method", "fake-fast", "--dataset", "FOLDER")
    proc = cli.in_process(monkeypatch, "report", out, "--out", site, *filters, "--json")
    assert proc.returncode == 0, proc.stderr
    assert [g["methods"] for g in json.loads(proc.stdout)["groups"]] == [1]
    proc = cli.in_process(monkeypatch, "plot", out, "--out", tmp_path / "f", "--method", "nope")
    proc.error_line("--method nope", "fake-fast", "fake-sharp")
    proc = cli.in_process(monkeypatch, "plot", out, "--out", tmp_path / "f", "--dataset", "cuhk")
    proc.error_line("for dataset 'cuhk'")


def test_legends_sit_outside_the_curves_and_the_grid_title_above_its_headers(tmp_path, monkeypatch, two_runs):
    from dbdbench import plots

    out = two_runs
    figures = []  # what the functions draw, kept open instead of saved and closed
    monkeypatch.setattr(plots, "_save", lambda fig, base, formats, dpi=150: figures.append(fig) or [])
    groups, _ = plots.collect_groups(out)
    colours = plots.method_colours(e.row for e in groups[0].entries)
    plt = plots._pyplot()
    monkeypatch.setattr(plt, "close", lambda fig: None)
    plots.plot_curves(groups[0], colours, tmp_path / "figs")
    plots.plot_qualitative(groups[0], colours, tmp_path / "figs", stems=["im00"])
    for fig in figures[:2]:  # PR and F curves
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    grid = figures[2]
    grid.canvas.draw()
    renderer = grid.canvas.get_renderer()
    title_bottom = grid._suptitle.get_window_extent(renderer).y0
    headers_top = max(ax.title.get_window_extent(renderer).y1 for ax in grid.axes if ax.get_title())
    assert title_bottom > headers_top


# ---------------------------------------------------------------------------- 6. devices


def test_device_messages_name_the_fix():
    from dbdbench.devices import no_cuda_message

    cpu_build = no_cuda_message("cuda", "2.4.0+cpu", None)
    assert "CPU-only build" in cpu_build and "--index-url https://download.pytorch.org/whl/cu" in cpu_build
    assert "README" in cpu_build and "--force-reinstall" in cpu_build
    no_gpu = no_cuda_message("cuda:1", "2.4.0+cu121", "12.1")
    assert "sees no CUDA device" in no_gpu and "CUDA_VISIBLE_DEVICES" in no_gpu and "CPU-only" not in no_gpu


def test_handcrafted_method_on_cuda_says_it_runs_on_the_cpu(tmp_path, monkeypatch, cli, marked_photos):
    data = marked_photos.folder(tmp_path, n=2)
    proc = cli.in_process(monkeypatch, *data.run_args("fake-sharp", "--device", "cuda", out=tmp_path / "runs"))
    assert proc.returncode == 0, proc.stderr
    notes = [ln for ln in proc.stderr.splitlines() if ln.startswith("note:")]
    assert notes == ["note: fake-sharp is a handcrafted method and runs on the CPU; --device cuda is ignored"]


def test_cuda_on_a_cpu_build_of_torch_says_so(tmp_path, monkeypatch, cli, marked_photos):
    torch = pytest.importorskip("torch")
    if torch.version.cuda is not None:
        pytest.skip("this torch is a CUDA build")
    data = marked_photos.folder(tmp_path, n=2)
    proc = cli.in_process(monkeypatch, *data.run_args("fake-learned", "--device", "cuda", out=tmp_path / "runs"))
    proc.error_line("CPU-only build", "--index-url")


# ---------------------------------------------------------------------------- 10. usage errors first, names, help


@pytest.fixture
def partial_dut(tmp_path, marked_photos) -> Path:
    """Two images of DUT in the Zhao lab's layout: scoring it warns "2 of 500"."""
    root = tmp_path / "DUT"
    (root / "dut500-source").mkdir(parents=True), (root / "dut500-gt").mkdir()
    rng = np.random.default_rng(0)
    for i in (1, 2):
        Image.fromarray(marked_photos.photo(rng)).save(root / "dut500-source" / f"{i}.jpg")
        Image.fromarray(marked_photos.mask()).save(root / "dut500-gt" / f"{i}.bmp")
    return root


@pytest.mark.parametrize(
    "args, needle",
    [
        (("run", "--method", "nosuch"), "nosuch"),
        (("run", "--method", "fake-sharp", "--option", "nope=1"), "nope"),
        (("run", "--method", "fake-sharp", "--device", "tpu"), "--device"),
        (("score", "--maps", "no-such-folder"), "no-such-folder"),
    ],
)
def test_usage_errors_come_before_dataset_warnings(partial_dut, monkeypatch, args, needle, cli):
    proc = cli.in_process(monkeypatch, *args, "--dataset", "DUT", "--root", partial_dut)
    proc.error_line(needle)
    assert "of 500" not in proc.stderr


def test_dataset_names_in_any_case(partial_dut, monkeypatch, tmp_path, cli):
    args = ("run", "--method", "fake-sharp", "--dataset", "Dut", "--root", partial_dut, "--out", tmp_path / "runs")
    proc = cli.in_process(monkeypatch, *args, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["dataset"]["name"] == "dut" and "2 of 500" in proc.stderr


@pytest.fixture(scope="session")
def help_text(dbdbench_cli):
    """``help_text(*args)``: what ``dbdbench ARGS`` prints at 80 columns, with the built-in plugins only."""
    cli = dbdbench_cli.but(installed_plugins=False, environment={"COLUMNS": "80"})
    return lambda *args: cli(*args).stdout


def test_help_and_listings_read_well_at_80_columns(help_text):
    top = help_text("--help")
    commands = top.split("Commands:")[1]
    assert "..." not in commands, f"a command's one-liner is cut:\n{commands}"
    assert all(len(line) <= 80 for line in commands.splitlines())
    score, run = (" ".join(help_text(c, "--help").split()) for c in ("score", "run"))
    assert "'run' defaults" not in score and "required unless --gt is given" in score and "default: synth." in run
    for text in (score, run, " ".join(help_text("train", "--help").split())):
        assert "else the user data folder" in text
    for sub in (("list", "--help"), ("plugins", "--help")):
        assert re.search(r"--json\s+\S", help_text(*sub)), f"dbdbench {sub[0]}: --json has no help text"
    datasets = help_text("list", "datasets")
    assert "layout: <root>/image/<stem>.jpg" in datasets and "CTCUG_gt" in datasets
    for listing in (datasets, help_text("list", "protocols"), help_text("plugins")):
        long = [line for line in listing.splitlines() if len(line) > 80]
        assert not long, long
        assert "…" not in listing  # nothing truncated


# ---------------------------------------------------------------------------- 5. progress, train's own words


def test_generating_synth_says_what_and_where(tmp_path, fake_cli):
    cache = tmp_path / "cache"
    args = ("run", "--method", "fake-sharp", "--dataset-option", "n=2", "--dataset-option", "size=32")
    proc = fake_cli(*args, "--out", tmp_path / "runs", DBDBENCH_CACHE=str(cache))
    assert proc.returncode == 0, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("generating synth split 'test' (2 images, 32 px) into ") and str(cache) in first
    assert "later runs reuse it" in first and re.search(r"^  done in \d+\.\d s$", proc.stderr, re.M)
    again = fake_cli(*args, "--out", tmp_path / "runs", DBDBENCH_CACHE=str(cache))
    assert "generating synth" not in again.stderr


def train_args(folder: Path, out: Path, mode: str) -> tuple:
    return (
        "train", "--method", "fake-learned", "--dataset", "folder", "--dataset-option", f"gt={folder}",
        "--dataset-option", "gt_polarity=focus", "--option", f"mode={mode}", "--steps", "6", "--out", out,
    )  # fmt: skip


@pytest.mark.parametrize("mode, step", [("checkpoint", 3), ("attribute", 2)])
def test_interrupted_training_says_the_step_and_the_resume_command(tmp_path, mode, step, cli, marked_photos):
    gt = marked_photos.folder(tmp_path, n=2).gt
    out = tmp_path / "train out"
    proc = cli(*train_args(gt, out, mode))
    assert proc.returncode == 130 and "Traceback" not in proc.stderr, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert f"checkpoint at step {step} kept in {out / 'checkpoints'}" in line
    assert "maps already written" not in line
    command = line.split("continue with: ", 1)[1]
    assert command.startswith("dbdbench train --method fake-learned --dataset folder ")
    assert f"--out '{out}'" in command and command.endswith(" --resume") and "--steps 6" in command


def test_training_interrupted_before_any_checkpoint(tmp_path, cli, marked_photos):
    gt = marked_photos.folder(tmp_path, n=2).gt
    proc = cli(*train_args(gt, tmp_path / "t", "early"))
    assert proc.returncode == 130
    assert "before the first checkpoint" in proc.stderr and "--resume" not in proc.stderr


def test_training_summary_is_readable_lines(tmp_path, monkeypatch, cli, marked_photos):
    gt = marked_photos.folder(tmp_path, n=2).gt
    proc = cli.in_process(monkeypatch, *train_args(gt, tmp_path / "t", "done"))
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines())
    assert lines["method"] == "fake-learned (Fake learned method (first-hour tests))"
    assert lines["options"] == "variant=lite, lr=0.001, dataset=(name=folder, split=all)"
    assert lines["validation"] == "2 evaluations, last: step=3, f_max=0.625"
    assert "best_step" not in lines and not any(c in proc.stdout for c in "{}[]")
