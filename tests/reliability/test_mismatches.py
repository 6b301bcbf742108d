"""3. Mismatches: photos, maps and masks that do not pair up, or differ in size, or carry no signal."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from .harness import read_per_image, two_at_a_time
from .log import case, short

STRAYS = [
    # case, the stray file: (folder, stem, which image it is), words of the error, what it is in the expected text
    ("GT without image (run)", "gt", "lonely", "no matching image", "the GT file"),
    ("image without GT (run)", "images", "orphan", "no ground truth", "the image"),
]


@pytest.mark.parametrize("name, where, stem, words, what", STRAYS)
def test_unpaired_file(tmp_path, fake_cli, marked_photos, name, where, stem, words, what):
    data = marked_photos.folder(tmp_path, n=3)
    stray = marked_photos.mask() if where == "gt" else marked_photos.photo(np.random.default_rng(5))
    Image.fromarray(stray).save(getattr(data, where) / f"{stem}.png")
    c = case(
        "mismatch",
        name,
        "dbdbench run --method fake-sharp --images DIR --gt DIR",
        f"exit 2 naming {what}; --skip-bad: exit 0, listed in 'skipped'",
    )
    args = data.run_args("fake-sharp", out=tmp_path / "runs")
    line = fake_cli(*args).error_line(f"{stem}.png", words)
    result = fake_cli(*args, "--skip-bad", "--json").succeeded()
    assert [s["stem"] for s in result["skipped"]] == [stem] and result["n_images"] == 3
    c.ok(f"exit 2: {short(line)} | --skip-bad: skipped [{stem}]")


def test_map_without_gt_and_gt_without_map(tmp_path, fake_cli, marked_photos):
    """The GT defines what is scored: a map without GT is reported, a GT without map is an error unless
    --allow-missing, which counts it."""
    c1 = case(
        "mismatch",
        "map without GT (score)",
        "dbdbench score --maps DIR --gt DIR",
        "exit 0; the GT defines the images scored; the stray map is reported, not scored",
    )
    data, maps = marked_photos.folder_with_maps(tmp_path, n=4)
    Image.fromarray(marked_photos.mask()).save(maps / "stray.png")  # a map with no GT
    r = fake_cli(*data.score_args(maps, "--json")).succeeded()
    assert r["n_images"] == 4
    assert r.get("extra_maps", {}).get("count") == 1, "a map with no GT should be reported in the result"
    c1.ok("exit 0; 4 images scored; extra_maps.count = 1 in result.json")
    (maps / "im02.png").unlink()
    c2 = case(
        "mismatch",
        "GT without map (score)",
        "dbdbench score --maps DIR --gt DIR",
        "exit 2 naming the first missing map; --allow-missing: exit 0 with missing_maps count",
    )
    line = fake_cli(*data.score_args(maps)).error_line("im02.png", "no map")
    r = fake_cli(*data.score_args(maps, "--allow-missing", "--json")).succeeded()
    assert r["n_images"] == 3 and r["missing_maps"]["count"] == 1 and r["missing_maps"]["stems"] == ["im02"]
    c2.ok(f"exit 2: {short(line)} | --allow-missing: 3 scored, missing_maps.count 1")


def test_map_size_differs_from_gt(tmp_path, fake_cli, marked_photos):
    h, w = marked_photos.height, marked_photos.width
    data, maps = marked_photos.folder_with_maps(tmp_path, n=2)
    Image.fromarray(marked_photos.mask(h * 2, w * 2)).save(maps / "im01.png")
    c = case(
        "mismatch",
        "map of a different size than its GT (score)",
        "dbdbench score ... [--resize none]",
        "exit 0 (map resized to GT, bilinear); with --resize none: exit 2 naming the map and both sizes",
    )
    r = fake_cli(*data.score_args(maps, "--json")).succeeded()
    assert r["n_images"] == 2 and r["metrics"]["f_max"] > 0.99
    line = fake_cli(*data.score_args(maps, "--resize", "none")).error_line("im01.png", f"{w * 2}x{h * 2}", f"{w}x{h}")
    c.ok(f"exit 0, f_max {r['metrics']['f_max']:.3f} | --resize none: exit 2: {short(line)}")


#: kind: (which file it replaces, its pixels for a (height, width))
DEGENERATE = {
    "non-binary GT (0..255 gradient)": ("gt", lambda h, w: np.tile(np.linspace(0, 255, w).astype(np.uint8), (h, 1))),
    "all-background GT": ("gt", lambda h, w: np.zeros((h, w), np.uint8)),
    "all-foreground GT": ("gt", lambda h, w: np.full((h, w), 255, np.uint8)),
    "constant map 0": ("map", lambda h, w: np.zeros((h, w), np.uint8)),
    "constant map 255": ("map", lambda h, w: np.full((h, w), 255, np.uint8)),
    "constant map 128": ("map", lambda h, w: np.full((h, w), 128, np.uint8)),
}


def test_degenerate_gt_and_maps(tmp_path, fake_cli, marked_photos):
    """Scores stay finite and within [0, 1] for non-binary / empty / full GT and constant maps, with and without
    min-max."""
    data, maps = marked_photos.folder_with_maps(tmp_path, n=len(DEGENERATE) + 1)
    stem_of = {}
    for i, (kind, (role, pixels)) in enumerate(DEGENERATE.items(), start=1):
        stem_of[kind] = f"im{i:02d}"
        folder = data.gt if role == "gt" else maps
        Image.fromarray(pixels(marked_photos.height, marked_photos.width)).save(folder / f"im{i:02d}.png")
    blur = ("score", "--maps", maps, "--gt", data.gt, "--gt-polarity", "blur", "--minmax", "--positive", "blur")
    procs = two_at_a_time(
        fake_cli,
        [data.score_args(maps, "--out", tmp_path / "a", "--json"), (*blur, "--out", tmp_path / "b", "--json")],
    )
    for p in procs:
        r = p.succeeded()
        for key, value in r["metrics"].items():
            assert value is not None and np.isfinite(value) and 0 <= value <= 1, (key, value)
    # b overrides the protocol (dbd+custom), so its files carry the variant name: per_image.dbd_custom.csv
    rows = [
        read_per_image(tmp_path / "a" / "per_image.csv"),
        read_per_image(tmp_path / "b" / "per_image.dbd_custom.csv"),
    ]
    for kind in DEGENERATE:
        c = case(
            "mismatch",
            kind + " (score)",
            "dbdbench score --maps DIR --gt DIR [--gt-polarity blur --minmax --positive blur]",
            "exit 0; every per-image value finite and in [0, 1]",
        )
        for r in rows:
            values = {k: float(v) for k, v in r[stem_of[kind]].items() if k != "stem" and v not in ("", None)}
            # pixel counts (what pooled metrics sum: *_tp, *_fp, *_fn, *_predicted, n_positive, n_pixels) are
            # whole numbers >= 0; every other per-image value is a rate in [0, 1]
            counts = {k for k in values if k.endswith(("_tp", "_fp", "_fn", "_predicted")) or k.startswith("n_")}
            assert all(values[k] >= 0 and values[k] == int(values[k]) for k in counts), (kind, values)
            rates = [v for k, v in values.items() if k not in counts]
            assert all(np.isfinite(v) and -1e-9 <= v <= 1 + 1e-9 for v in rates), (kind, values)
        c.ok("exit 0 both ways; per-image values finite in [0, 1]")


def test_gt_size_differs_from_image(tmp_path, fake_cli, marked_photos):
    data = marked_photos.folder(tmp_path, n=2)
    Image.fromarray(marked_photos.mask(marked_photos.height // 2, marked_photos.width // 2)).save(data.gt / "im01.png")
    c = case(
        "mismatch",
        "GT smaller than its photo (run)",
        "dbdbench run --method fake-sharp ...",
        "exit 0; map kept at photo size, resized to GT for scoring",
    )
    r = fake_cli(*data.run_args("fake-sharp", "--json", out=tmp_path / "runs")).succeeded()
    assert r["n_images"] == 2
    c.ok(f"exit 0; f_max {r['metrics']['f_max']:.3f}")
