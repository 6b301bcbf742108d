"""End to end through the real CLI: run, score, the cache, JSON output, leaderboard."""

from __future__ import annotations

import json

import pandas as pd


def test_run_then_score_reproduces_bit_for_bit(tmp_path, cli, folder_dataset, only_dir):
    out = tmp_path / "runs"
    result = json.loads(cli(*folder_dataset.run_args("test-contrast", "--json", out=out)).stdout)
    run_dir = only_dir(out / "test-contrast")
    assert (run_dir / "result.json").exists() and (run_dir / "per_image.csv").exists()
    assert len(list((run_dir / "maps").glob("*.png"))) == 6
    assert result["n_images"] == 6 and result["metrics"]["f_max"] > 0.7
    for key in (
        "protocol",
        "dataset",
        "method",
        "n_images",
        "metrics",
        "curves",
        "timing",
        "environment",
        "command",
        "created",
    ):
        assert key in result
    assert set(result["metrics"]) == {"mae", "f_max", "f_mean", "f_adaptive", "f_fixed", "f_score1", "iou"}
    assert result["curves"]["threshold"] == list(range(256))
    assert result["timing"]["images_timed"] == 6
    assert result["method"]["plugin"] == "plugin_fixtures"
    assert result["dataset"]["file_list_hash"]

    scored = json.loads(cli(*folder_dataset.score_args(run_dir / "maps", "--json")).stdout)
    assert scored["metrics"] == result["metrics"]
    assert scored["curves"] == result["curves"]

    per_image = pd.read_csv(run_dir / "per_image.csv")
    assert list(per_image["stem"]) == [f"img {i}" for i in range(6)]
    assert per_image["predict_s"].notna().all()


def test_cached_maps_are_reused_and_force_recomputes(tmp_path, cli, folder_dataset, only_dir):
    args = folder_dataset.run_args("test-contrast", "--json", out=tmp_path / "r")
    first = json.loads(cli(*args).stdout)
    map_file = only_dir(tmp_path / "r" / "test-contrast") / "maps" / "img 0.png"
    stamp = map_file.stat().st_mtime_ns
    second = json.loads(cli(*args).stdout)
    assert second["run"]["maps_reused"] == 6 and second["run"]["maps_computed"] == 0
    assert map_file.stat().st_mtime_ns == stamp
    assert second["metrics"] == first["metrics"]
    assert second["timing"]["images_timed"] == 6  # timings survive from the first run
    third = json.loads(cli(*args, "--force").stdout)
    assert third["run"]["maps_computed"] == 6


def test_method_options_get_their_own_cache(tmp_path, cli, folder_dataset, only_dir):
    cli(*folder_dataset.run_args("test-contrast", "--option", "window=3", out=tmp_path / "r"))
    assert (only_dir(tmp_path / "r" / "test-contrast@window=3") / "result.json").exists()
    bad = cli(*folder_dataset.run_args("test-contrast", "--option", "nope=1"), check=False)
    assert bad.returncode == 2 and "has no option 'nope'" in bad.stderr


def test_protocol_variant_results_do_not_overwrite(tmp_path, cli, folder_dataset, only_dir):
    base = folder_dataset.run_args("test-contrast", out=tmp_path / "r")
    cli(*base)
    cli(*base, "--protocol", "hifst")
    cli(*base, "--limit", "3")
    names = sorted(p.name for p in only_dir(tmp_path / "r" / "test-contrast").glob("*.json"))
    assert names == ["result.hifst.json", "result.json", "result.limit3.json"]


def test_leaderboard_markdown(tmp_path, cli, folder_dataset):
    cli(*folder_dataset.run_args("test-contrast", out=tmp_path / "r"))
    md = cli("leaderboard", tmp_path / "r").stdout
    assert "| `test-contrast` |" in md and "protocol `dbd`" in md and "**6 images**" in md


def test_list_commands_json(cli):
    methods = json.loads(cli("list", "methods", "--json").stdout)
    assert "test-contrast" in {m["id"] for m in methods}
    datasets = {d["name"]: d for d in json.loads(cli("list", "datasets", "--json").stdout)}
    assert datasets["cuhk"]["gt_polarity"] == "blur" and datasets["dut"]["gt_polarity"] == "focus"
    protocols = {p["name"] for p in json.loads(cli("list", "protocols", "--json").stdout)}
    assert protocols == {"dbd", "sod", "sg", "ddffnet", "hifst", "dd", "evp"}
    metrics = {m["name"]: m["better"] for m in json.loads(cli("list", "metrics", "--json").stdout)}
    assert metrics["mae"] == "lower" and metrics["f_max"] == "higher"


def test_missing_dataset_root_says_where_to_look(tmp_path, cli):
    proc = cli("score", "--maps", tmp_path, "--dataset", "dut", "--root", tmp_path / "nowhere", check=False)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and "dut500-gt" in line and "nowhere" in line and "obtain it from" in line


# ------------------------------------------------------------------ real data


def hifst_on_cuhk(shared, maps=None) -> tuple:
    """``score`` HiFST's released CUHK maps (or ``maps`` named like them) against the CUHK GT."""
    maps = shared / "cuhk/results/hifst" if maps is None else maps
    return ("score", "--maps", maps, "--map-suffix", "_HiFSTBlurMap", "--dataset", "cuhk", "--root", shared / "cuhk")


def test_ddffnet_reproduces_published_hifst_row(shared, cli):
    """D-DFFNet (ICME 2023) reports F = 0.803, MAE = 0.223 for HiFST on CUHK-TE-1."""
    result = json.loads(cli(*hifst_on_cuhk(shared), "--split", "te1", "--protocol", "ddffnet", "--json").stdout)
    assert result["n_images"] == 100
    assert round(result["metrics"]["f_fixed"], 3) == 0.803
    assert round(result["metrics"]["mae"], 3) == 0.223


def test_cuhk_splits_and_missing_maps(shared, tmp_path, cli):
    base = hifst_on_cuhk(shared)
    counts = {s: json.loads(cli(*base, "--split", s, "--json").stdout)["n_images"] for s in ("defocus", "motion")}
    assert counts == {"defocus": 704, "motion": 296}
    # A map folder missing some maps is an error unless --allow-missing, which reports the count.
    partial = tmp_path / "partial"
    partial.mkdir()
    for stem in ("out_of_focus0011", "out_of_focus0031"):
        (partial / f"{stem}_HiFSTBlurMap.png").symlink_to(shared / f"cuhk/results/hifst/{stem}_HiFSTBlurMap.png")
    proc = cli(*hifst_on_cuhk(shared, partial), check=False)
    assert proc.returncode == 2 and "702 of 704" in proc.stderr
    ok = json.loads(cli(*hifst_on_cuhk(shared, partial), "--allow-missing", "--json").stdout)
    assert ok["n_images"] == 2 and ok["missing_maps"]["count"] == 702


def test_released_maps_on_dut_and_xu100(shared, cli):
    """Zhao lab layouts and focus-white GT: AENet's released maps score far above chance."""
    for ds in ("dut", "xu100"):
        result = json.loads(
            cli(
                "score", "--maps", shared / f"results/aenet/{ds}", "--dataset", ds, "--root", shared / ds, "--json"
            ).stdout
        )
        assert result["n_images"] == 5
        assert result["metrics"]["f_max"] > 0.8, (ds, result["metrics"])
