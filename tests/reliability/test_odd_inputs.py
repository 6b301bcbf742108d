"""2. Odd but valid inputs: unusual modes, formats, sizes and names are read with their displayed size and scored."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .harness import maps_of, read_per_image, two_at_a_time, valid_pngs
from .log import case, short


def _exif_rotated(path: Path, photo: np.ndarray) -> None:
    """A JPEG stored 48 wide x 40 high with EXIF orientation 6 (rotate 90 CW): displayed 40 wide x 48 high."""
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(photo).save(path.with_suffix(".jpg"), exif=exif.tobytes(), quality=95)


#: kind: (writer(path without the right suffix, photo), the photo's (height, width) or None for the default size,
#: whether the displayed size is the photo's transposed)
ODD = {
    "grayscale (L)": (lambda p, a: Image.fromarray(a[..., 0]).save(p), None, False),
    "RGBA": (lambda p, a: Image.fromarray(np.dstack([a, np.full(a.shape[:2], 77, np.uint8)])).save(p), None, False),
    "palette (P)": (lambda p, a: Image.fromarray(a).convert("P", palette=Image.Palette.ADAPTIVE).save(p), None, False),
    "16-bit PNG (I;16)": (lambda p, a: Image.fromarray(a[..., 0].astype(np.uint16) * 257).save(p), None, False),
    "1-bit (mode 1)": (lambda p, a: Image.fromarray(a[..., 0] > 100).save(p), None, False),
    "gray+alpha (LA)": (lambda p, a: Image.fromarray(a).convert("LA").save(p), None, False),
    "CMYK JPEG": (lambda p, a: Image.fromarray(a).convert("CMYK").save(p.with_suffix(".jpg")), None, False),
    "upper-case .PNG extension": (
        lambda p, a: Image.fromarray(a).save(p.with_suffix(".PNG"), format="PNG"),
        None,
        False,
    ),
    "BMP": (lambda p, a: Image.fromarray(a).save(p.with_suffix(".bmp")), None, False),
    "float32 TIFF": (
        lambda p, a: Image.fromarray(a[..., 0].astype(np.float32)).save(p.with_suffix(".tif")),
        None,
        False,
    ),
    "EXIF-rotated JPEG": (_exif_rotated, None, True),
    "8x8 image": (lambda p, a: Image.fromarray(a).save(p), (8, 8), False),
    "non-ASCII and space path": (lambda p, a: Image.fromarray(a).save(p), None, False),
}


def test_odd_valid_inputs(tmp_path, fake_cli, marked_photos):
    """Every odd-but-valid file in one dataset under a non-ASCII, space-containing folder: run, then score each
    odd file as a map and as GT. Every one is read with its displayed size and scored."""
    rng = np.random.default_rng(3)
    base = tmp_path / "données ü 写真 dir"
    data = marked_photos.folder(base, n=2)
    stems, shapes = {}, {}
    for i, (kind, (write, size, transposed)) in enumerate(ODD.items()):
        stem = "été photo 1" if kind == "non-ASCII and space path" else f"odd{i:02d}"
        photo = marked_photos.photo(rng, *(size or ()))
        write(data.images / f"{stem}.png", photo)
        stems[kind], shapes[kind] = stem, photo.shape[1::-1] if transposed else photo.shape[:2]
        Image.fromarray(marked_photos.mask(*shapes[kind])).save(data.gt / f"{stem}.png")
    # the odd files as maps (against plain GT) and as GT (against plain maps)
    as_maps, as_gt_maps, as_gt = base / "as maps", base / "plain maps", base / "as gt"
    for d in (as_maps, as_gt_maps, as_gt):
        d.mkdir()
    for kind, stem in stems.items():
        odd = next(p for p in data.images.iterdir() if p.name.startswith(stem + "."))
        shutil.copy(odd, as_maps / odd.name)
        shutil.copy(odd, as_gt / odd.name)
        Image.fromarray(marked_photos.mask(*shapes[kind])).save(as_gt_maps / f"{stem}.png")
    out = base / "runs"
    run, score_maps, score_gt = two_at_a_time(
        fake_cli,
        [
            data.run_args("fake-sharp", "--json", out=out),
            data.score_args(as_maps, "--allow-missing", "--out", base / "s1", "--json"),
            ("score", "--maps", as_gt_maps, "--gt", as_gt, "--gt-polarity", "focus", "--out", base / "s2", "--json"),
        ],
    )
    cases = {
        kind: case(
            "odd valid input",
            kind,
            f"dbdbench run --method fake-sharp ... ; dbdbench score (as map; as GT)  ({kind})",
            f"exit 0; map {shapes[kind][0]}x{shapes[kind][1]} (the displayed size); scored as map and as GT",
        )
        for kind in ODD
    }
    result = run.succeeded()
    assert result["n_images"] == 2 + len(ODD) and not result["skipped"], result["skipped"]
    maps = valid_pngs(maps_of(out, "fake-sharp"))
    rows = [read_per_image(base / d / "per_image.csv") for d in ("s1", "s2")]
    assert score_maps.succeeded()["n_images"] == len(ODD) and score_gt.succeeded()["n_images"] == len(ODD)
    failures = []
    for kind, stem in stems.items():
        try:
            assert maps[stem].shape == shapes[kind], (maps[stem].shape, shapes[kind])
            for r in rows:
                assert np.isfinite(float(r[stem]["mae"])), r[stem]
            cases[kind].ok(
                f"exit 0; map {maps[stem].shape[0]}x{maps[stem].shape[1]}; scored as map (mae {float(rows[0][stem]['mae']):.3f}) and as GT"
            )
        except (AssertionError, KeyError) as exc:
            cases[kind].observed = short(repr(exc), 300)
            failures.append(f"{kind}: {exc!r}")
    assert not failures, "\n".join(failures)


def test_very_large_image(tmp_path, fake_cli):
    """A 6000 x 4000 photo (generated here, never committed) runs and scores."""
    c = case(
        "odd valid input",
        "very large image (6000x4000 JPEG photo, PNG GT)",
        "dbdbench run --method fake-fast --images DIR --gt DIR",
        "exit 0; 6000x4000 map, scored",
    )
    img, gt = tmp_path / "images", tmp_path / "gt"
    img.mkdir()
    gt.mkdir()
    big = np.full((4000, 6000, 3), 128, np.uint8)
    big[:, :3000] = np.tile(np.random.default_rng(4).integers(0, 256, (400, 300, 3), dtype=np.uint8), (10, 10, 1))
    Image.fromarray(big).save(img / "big.jpg", quality=80)
    del big
    g = np.zeros((4000, 6000), np.uint8)
    g[:, :3000] = 255
    Image.fromarray(g).save(gt / "big.png")
    args = ("run", "--method", "fake-fast", "--images", img, "--gt", gt, "--gt-polarity", "focus")
    result = fake_cli(*args, "--out", tmp_path / "runs", "--json").succeeded()
    with Image.open(maps_of(tmp_path / "runs", "fake-fast") / "big.png") as m:
        assert m.size == (6000, 4000)
    assert result["metrics"]["f_max"] > 0.8
    c.ok(f"exit 0; 6000x4000 map; f_max {result['metrics']['f_max']:.3f}")


def test_non_utf8_file_names(tmp_path, fake_cli, marked_photos):
    """File names that are not valid UTF-8 (legal on Linux): a valid pair is run and scored (tables keep the
    original bytes); an unreadable one is reported in one line."""
    if sys.platform != "linux":
        pytest.skip("only Linux file systems accept arbitrary bytes in names")
    data, maps = marked_photos.folder_with_maps(tmp_path, n=2)
    c1 = case(
        "odd valid input",
        "non-UTF-8 bytes in file names (valid images)",
        "dbdbench run ...; dbdbench score --out DIR",
        "exit 0; scored; result.json and per_image.csv written",
    )
    for folder in (data.images, data.gt, maps):
        shutil.copy(folder / "im00.png", os.fsencode(str(folder)) + b"/caf\xe9.png")
    run, score = two_at_a_time(
        fake_cli,
        [
            data.run_args("fake-sharp", "--json", out=tmp_path / "r"),
            data.score_args(maps, "--out", tmp_path / "s", "--json"),
        ],
    )
    assert run.succeeded()["n_images"] == 3 and score.succeeded()["n_images"] == 3
    assert b"caf\xe9" in (tmp_path / "s" / "per_image.csv").read_bytes()
    c1.ok("exit 0 (run and score); 3 scored; per_image.csv holds the original name bytes")
    with open(os.fsencode(str(data.gt)) + b"/bad\xff.png", "wb") as fh:
        fh.write(b"not an image")
    shutil.copy(maps / "im00.png", os.fsencode(str(maps)) + b"/bad\xff.png")
    c2 = case(
        "unreadable input",
        "non-UTF-8 bytes in the name of an unreadable GT",
        "dbdbench score --maps DIR --gt DIR [--skip-bad]",
        "exit 2, one error line naming the file; --skip-bad: exit 0, listed",
    )
    plain, skip = two_at_a_time(fake_cli, [data.score_args(maps), data.score_args(maps, "--skip-bad", "--json")])
    line = plain.error_line("bad", "not a readable image")
    r = skip.succeeded()
    assert r["n_images"] == 3 and len(r["skipped"]) == 1
    c2.ok(f"exit 2: {short(line.replace(str(tmp_path), '$TMP'))} | --skip-bad: exit 0, 1 skipped")
