"""Leaderboards: committed results, tables in four formats, ``--check``, and ``bench``."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


@pytest.fixture(scope="session")
def cli(cli):
    """With tests/bench_fixtures.py too: the untrained network that ``bench`` times model-only."""
    return cli.but(plugins="plugin_fixtures,bench_fixtures")


def _clean_revisions(folder: Path) -> None:
    """Results made by the tests come from whatever checkout runs them; pin a clean revision for --check."""
    for path in folder.rglob("*.json"):
        obj = json.loads(path.read_text())
        obj["environment"]["git_revision"] = "0123456789ab"
        path.write_text(json.dumps(obj, indent=2) + "\n")


@pytest.fixture(scope="module")
def _saved_once(tmp_path_factory, cli, make_photo_folder):
    root = tmp_path_factory.mktemp("saved")
    data = make_photo_folder(root / "data", name="img{i}")
    lb = root / "leaderboards" / "results"
    env = {"DBDBENCH_CACHE": str(root / "cache")}
    base = data.run_args("test-contrast", "--save-to-leaderboard", "--leaderboard-dir", lb, out=root / "runs")
    cli(*base, **env)
    cli(*base, "--option", "window=5", **env)
    cli(*base, "--protocol", "ddffnet", **env)
    cli(
        *data.score_args(data.gt, "--images", data.images),
        "--name",
        "Oracle",
        "--kind",
        "learned",
        "--paper",
        "Nobody, 2024",
        "--training-data",
        "the GT itself",
        "--save-to-leaderboard",
        "--leaderboard-dir",
        lb,
        **env,
    )
    cli(
        "bench",
        "--method",
        "test-contrast",
        "--size",
        "32",
        "--repeats",
        "3",
        "--warmup",
        "1",
        "--save-to-leaderboard",
        "--leaderboard-dir",
        lb,
        **env,
    )
    return root / "leaderboards"


@pytest.fixture
def saved(tmp_path, _saved_once):
    """Two runs (default and window=5) and one under ddffnet, a score under --name, a bench record, all saved
    with --save-to-leaderboard into tmp/leaderboards/results (a fresh copy per test)."""
    shutil.copytree(_saved_once, tmp_path / "leaderboards")
    return tmp_path, tmp_path / "leaderboards" / "results"


def test_saved_results_are_portable_and_named_by_row(saved):
    _tmp_path, lb = saved
    names = sorted(p.relative_to(lb).as_posix() for p in lb.rglob("*.json"))
    assert names == [
        "folder/Oracle.json",
        "folder/test-contrast.ddffnet.json",
        "folder/test-contrast.json",
        "folder/test-contrast@window=5.json",
        "timing/cpu/test-contrast.32px.json",
    ]
    result = json.loads((lb / "folder" / "test-contrast@window=5.json").read_text())
    assert result["method"]["row"] == "test-contrast@window=5" and result["method"]["options"]["window"] == 5
    assert "created" not in result and "timing" not in result and "platform" not in result["environment"]
    assert result["dataset"]["file_list_hash"] and result["dataset"]["n_images"] == 6
    assert not any(str(v).startswith("/") for v in result["dataset"].values())  # no machine paths
    for key in ("protocol", "method", "metrics", "curves", "environment", "command"):
        assert key in result
    assert result["environment"]["git_revision"] and result["environment"]["cpu"]
    oracle = json.loads((lb / "folder" / "Oracle.json").read_text())
    assert oracle["method"]["id"] == "Oracle" and oracle["method"]["kind"] == "learned"
    assert oracle["method"]["training_data"] == "the GT itself"


def test_markdown_tables(saved, cli):
    _tmp_path, lb = saved
    md = cli("leaderboard", lb).stdout
    assert md.count("\n## folder") == 2  # one table per protocol
    dbd = md.split("## folder · split `all` · 6 images · protocol `dbd`")[1].split("\n## ")[0]
    assert "**6 images**" in dbd and "`positive=focus`" in dbd and "`minmax=false`" in dbd
    rows = [line for line in dbd.splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip() for r in rows] == ["`Oracle†`", "`test-contrast`", "`test-contrast@window=5`"]
    oracle = rows[0].split("|")
    assert (
        oracle[2].strip() == "learned" and oracle[3].strip() == "Nobody, 2024" and oracle[4].strip() == "the GT itself"
    )
    assert "**1.000**" in rows[0] and "**0.000**" in rows[0]  # best f_max (higher) and best mae (lower) in bold
    assert "f_max ↑" in dbd and "mae ↓" in dbd and "† scored from precomputed maps" in dbd
    assert "| none |" in rows[1]  # handcrafted: no training data
    timing = md.split("## Timing on `cpu`")[1]
    assert "`test-contrast`" in timing and "32x32" in timing and "Oracle" not in timing
    assert "created" not in md


def test_other_formats(saved, cli):
    _tmp_path, lb = saved
    text = cli("leaderboard", lb, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["table"] for r in rows} == {"accuracy", "timing"}
    oracle = next(r for r in rows if r["method"] == "Oracle" and r["protocol"] == "dbd")
    assert float(oracle["f_max"]) == 1.0 and oracle["scored_maps"] == "True"
    latex = cli("leaderboard", lb, "--format", "latex").stdout
    assert r"\begin{tabular}" in latex and r"\textbf{" in latex and r"test-contrast@window=5" in latex
    page = cli("leaderboard", lb, "--format", "html").stdout
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page and "<strong>" in page
    assert "http" not in page and "src=" not in page  # self-contained


def test_check_passes_then_fails_when_a_result_changes(saved, cli):
    tmp_path, lb = saved
    _clean_revisions(lb)
    for fmt, name in (("md", "t.md"), ("csv", "t.csv"), ("latex", "t.tex"), ("html", "t.html")):
        cli("leaderboard", "leaderboards/results", "--format", fmt, "--out", f"leaderboards/{name}", cwd=tmp_path)
    ok = cli("leaderboard", "--check", cwd=tmp_path)
    assert ok.stderr.count("ok: ") == 4
    # the check does not depend on the folder it runs from
    cli("leaderboard", "--check", "--tables", tmp_path / "leaderboards", cwd=REPO / "tests")
    path = lb / "folder" / "test-contrast.json"
    result = json.loads(path.read_text())
    result["metrics"]["mae"] += 0.01
    path.write_text(json.dumps(result))
    bad = cli("leaderboard", "--check", cwd=tmp_path, check=False)
    assert bad.returncode != 0 and bad.stderr.count("FAILED") == 4, bad.stderr
    assert "t.md" in bad.stderr and "differs" in bad.stderr and "-  " not in bad.stderr.split("FAILED")[0]


def test_check_refuses_dirty_results(saved, cli):
    tmp_path, lb = saved
    _clean_revisions(lb)
    cli("leaderboard", "leaderboards/results", "--out", "leaderboards/t.md", cwd=tmp_path)
    for path in lb.rglob("*.json"):  # same numbers, but made from modified code
        path.write_text(path.read_text().replace('"0123456789ab"', '"0123456789ab-dirty"'))
    cli("leaderboard", "leaderboards/results", "--out", "leaderboards/t.md", cwd=tmp_path)
    bad = cli("leaderboard", "--check", cwd=tmp_path, check=False)
    assert bad.returncode != 0 and "-dirty" in bad.stderr


def test_no_results_and_torn_results_fail(tmp_path, cli):
    (tmp_path / "empty").mkdir()
    proc = cli("leaderboard", tmp_path / "empty", check=False)
    assert proc.returncode != 0 and "no dbdbench results" in proc.stderr and not proc.stdout
    proc = cli("leaderboard", tmp_path / "missing", check=False)
    assert proc.returncode != 0 and "missing" in proc.stderr
    torn = tmp_path / "lb" / "synth"
    torn.mkdir(parents=True)
    (torn / "hifst.json").write_text('{"protocol": {"name": "dbd"}, "metr')
    proc = cli("leaderboard", tmp_path / "lb", "--out", tmp_path / "out.md", check=False)
    assert proc.returncode != 0 and "hifst.json" in proc.stderr and "unreadable" in proc.stderr
    assert not (tmp_path / "out.md").exists()


def test_committed_tables_match_committed_results(cli):
    """What CI checks after the test suite ('make test'): every committed table is what its results produce."""
    proc = cli("leaderboard", "--check", cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "ok: leaderboards/synth.md" in proc.stderr


def test_committed_results_round_trip_through_run_result():
    """Every committed result reads into a RunResult and writes back byte for byte (the schema did not move)."""
    from dbdbench.results import RunResult

    paths = [p for p in sorted((REPO / "leaderboards" / "results").rglob("*.json")) if "timing" not in p.parts]
    assert len(paths) > 100
    for path in paths:
        text = path.read_text(encoding="utf-8")
        result = RunResult.from_json(json.loads(text))
        assert result.portable and result.timing is None and result.created is None
        assert json.dumps(result.to_json(), indent=2) + "\n" == text, path


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (lambda r: r.pop("environment"), "'environment' is missing"),
        (lambda r: r["dataset"].pop("name"), "dataset record has no name"),
        (lambda r: r["metrics"].pop("f_mean"), "metrics f_mean missing"),
        (lambda r: r.update(n_images="3"), "'n_images'"),
        (lambda r: r.update(run={"workers": 1}), "run: no 'device'"),
    ],
)
def test_run_result_refuses_incomplete_results(broken, why):
    from dbdbench.results import ResultFormatError, RunResult

    result = json.loads((REPO / "leaderboards" / "results" / "synth" / "lbp.json").read_text(encoding="utf-8"))
    broken(result)
    with pytest.raises(ResultFormatError, match=why):
        RunResult.from_json(result)


def test_committed_check_fails_when_a_committed_result_changes(tmp_path, cli):
    copy = tmp_path / "leaderboards"
    shutil.copytree(REPO / "leaderboards", copy)
    assert cli("leaderboard", "--check", cwd=tmp_path, check=False).returncode == 0
    path = sorted((copy / "results" / "synth").glob("*.json"))[0]
    result = json.loads(path.read_text())
    result["metrics"]["f_max"] = round(result["metrics"]["f_max"] - 0.05, 6)
    path.write_text(json.dumps(result, indent=2) + "\n")
    proc = cli("leaderboard", "--check", cwd=tmp_path, check=False)
    assert proc.returncode != 0 and "FAILED: leaderboards/synth.md" in proc.stderr


def test_synth_table_shows_coc_bands():
    md = (REPO / "leaderboards" / "synth.md").read_text()
    assert "by true circle of confusion" in md and "CoC (6, inf) px" in md


# ------------------------------------------------------------------ bench


def test_bench_json_on_a_handcrafted_method(cli):
    record = json.loads(
        cli("bench", "--method", "test-contrast", "--size", "48", "--repeats", "4", "--warmup", "1", "--json").stdout
    )
    for key in ("median_ms", "p90_ms", "device", "threads", "end_to_end", "model", "environment", "command", "cpu"):
        assert key in record
    assert record["device"] == "cpu" and record["threads"] >= 1 and record["model"] is None
    assert record["input"] == {"height": 48, "width": 48, "image": record["input"]["image"]}
    assert 0 < record["median_ms"] <= record["p90_ms"] <= record["end_to_end"]["max_ms"]
    assert record["end_to_end"]["repeats"] == 4 and record["random_weights"] is False
    assert record["torch"] is None  # handcrafted: torch never imported


def test_bench_model_only_and_random_weights_flag(tmp_path, cli):
    proc = cli(
        "bench",
        "--method",
        "test-untrained",
        "--size",
        "32",
        "--repeats",
        "3",
        "--device",
        "cpu",
        "--save-to-leaderboard",
        "--leaderboard-dir",
        tmp_path / "lb",
    )
    flag = [line for line in proc.stdout.splitlines() if "RANDOM WEIGHTS" in line]
    assert flag == ["RANDOM WEIGHTS: these timings are of an untrained network"]  # one unwrapped line
    assert "random weights" in proc.stderr and "model only" in proc.stdout
    record = json.loads((tmp_path / "lb" / "timing" / "cpu" / "test-untrained.32px.json").read_text())
    assert record["random_weights"] is True and record["model"]["repeats"] == 3
    md = cli("leaderboard", tmp_path / "lb").stdout
    assert "| random |" in md and "untrained, for timing only" in md


def test_bench_rejects_bad_arguments(cli):
    proc = cli("bench", "--method", "nope", check=False)
    assert proc.returncode == 2 and "nope" in proc.stderr
    proc = cli("bench", "--method", "test-contrast", "--repeats", "0", check=False)
    assert proc.returncode == 2


# ------------------------------------------------------------------ published numbers


def test_published_numbers_recomputed_by_dbdbench_match_committed_results():
    """leaderboards/published.md quotes, for each recomputed number, the committed result it comes from."""
    import re

    text = (REPO / "leaderboards" / "published.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("|") and "leaderboards/results/" in line]
    assert rows, "no recomputed rows in published.md"
    for line in rows:
        path = re.search(r"`(leaderboards/results/[^`]+\.json)`", line).group(1)
        metrics = json.loads((REPO / path).read_text())["metrics"]
        quoted = dict(re.findall(r"`(\w+)` (\d\.\d{3})", line))
        assert quoted, line
        for metric, value in quoted.items():
            assert f"{metrics[metric]:.3f}" == value, (path, metric, metrics[metric], value)
    # the D-DFFNet row for HiFST on CUHK-TE-1 is reproduced exactly
    assert "| HiFST | 0.223 | 0.803 |" in text


def test_readme_shows_the_committed_synth_table():
    """The README's copy of the synth accuracy table is the committed one (bash leaderboards/make_leaderboards.sh readme)."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- synth-leaderboard:start")[1].split("<!-- synth-leaderboard:end -->")[0]
    copied = [line for line in block.splitlines() if line.startswith("|")]
    synth = (REPO / "leaderboards" / "synth.md").read_text().split("protocol `dbd`", 1)[1]
    table = []
    for line in synth.splitlines()[1:]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    assert copied == table
