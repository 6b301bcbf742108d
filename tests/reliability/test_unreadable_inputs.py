"""1. Unreadable inputs: each bad file alone gives one clean error line naming it; all of them together with
--skip-bad are each listed, and the rest scored."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .harness import maps_of, two_at_a_time, valid_pngs
from .log import case, short

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _bomb_png() -> bytes:
    """A PNG whose header claims 100000 x 100000 pixels (the pixels themselves are absent)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    )


BAD_FILES = {
    # kind: (file name, writer(path, good_png_bytes, good_jpeg_bytes), words the error must contain; None: valid)
    "zero-byte file": ("x.png", lambda p, png, jpg: p.write_bytes(b""), "empty"),
    "truncated PNG": ("x.png", lambda p, png, jpg: p.write_bytes(png[: len(png) // 2]), "truncated"),
    "truncated JPEG": ("x.jpg", lambda p, png, jpg: p.write_bytes(jpg[: len(jpg) // 2]), "truncated"),
    "text file named .png": (
        "x.png",
        lambda p, png, jpg: p.write_text("hello, I am not an image\n"),
        "not a readable image",
    ),
    "directory named like an image": ("x.png", lambda p, png, jpg: p.mkdir(), "directory"),
    "PNG signature only": ("x.png", lambda p, png, jpg: p.write_bytes(png[:8]), "x.png"),
    "random bytes": ("x.png", lambda p, png, jpg: p.write_bytes(np.random.default_rng(1).bytes(4096)), "x.png"),
    "JPEG bytes named .png": ("x.png", lambda p, png, jpg: p.write_bytes(jpg), None),  # content decides, not the name
    "decompression bomb header": ("x.png", lambda p, png, jpg: p.write_bytes(_bomb_png()), "too large"),
    "broken symlink": ("x.png", lambda p, png, jpg: p.symlink_to(p.parent / "does-not-exist.png"), "no such file"),
    "symlink loop": ("x.png", lambda p, png, jpg: p.symlink_to(p), "x.png"),
    "unreadable permissions": (
        "xNOPERM.png",
        lambda p, png, jpg: (p.write_bytes(png), p.chmod(0)),
        "permission denied",
    ),
}

ROLES = {
    # role: the kinds tried in that role (GT files go through the same reader as maps, so a subset suffices)
    "image (run)": list(BAD_FILES),
    "map (score)": list(BAD_FILES),
    "GT (score)": [
        "zero-byte file",
        "truncated PNG",
        "text file named .png",
        "directory named like an image",
        "decompression bomb header",
        "unreadable permissions",
    ],
}


def _good_bytes(tmp: Path, photos) -> tuple[bytes, bytes]:
    rng = np.random.default_rng(2)
    Image.fromarray(photos.photo(rng)).save(tmp / "g.png")
    Image.fromarray(photos.photo(rng)).save(tmp / "g.jpg", quality=90)
    return (tmp / "g.png").read_bytes(), (tmp / "g.jpg").read_bytes()


def _plant(data, maps: Path, role: str, kind: str, stem: str, png: bytes, jpg: bytes, photos) -> Path:
    """Put one bad file of ``kind`` into the ``role`` position (named ``stem`` + the kind's extension); pair it."""
    name = stem + Path(BAD_FILES[kind][0]).suffix
    if role == "image (run)":
        target = data.images / name
        Image.fromarray(photos.mask()).save(data.gt / f"{stem}.png")
    elif role == "map (score)":
        target = maps / name
        Image.fromarray(photos.mask()).save(data.gt / f"{stem}.png")
    else:
        target = data.gt / name
        Image.fromarray(photos.mask()).save(maps / f"{stem}.png")
    BAD_FILES[kind][1](target, png, jpg)
    return target


def _stem(kind: str, i: int) -> str:
    return f"x{i:02d}" + ("NOPERM" if kind == "unreadable permissions" else "")


def _args(role: str, data, maps: Path, out: Path) -> tuple:
    if role == "image (run)":
        return data.run_args("fake-sharp", out=out)
    return data.score_args(maps)


@pytest.mark.parametrize("role", list(ROLES))
def test_unreadable_inputs(tmp_path, role, fake_cli, marked_photos):
    """Each bad file alone: one clean error line naming it. All of them together with --skip-bad: each listed,
    the rest scored."""
    png, jpg = _good_bytes(tmp_path, marked_photos)
    # Root reads chmod-000 files anyway: there, simulate EACCES inside the subprocess (reliability_eacces).
    plugins = "reliability_plugins,reliability_eacces" if IS_ROOT else "reliability_plugins"
    kinds = ROLES[role]
    calls, setups = [], []
    for i, kind in enumerate(kinds):
        root = tmp_path / f"k{i}"
        data, maps = marked_photos.folder_with_maps(root, n=3)
        target = _plant(data, maps, role, kind, _stem(kind, i), png, jpg, marked_photos)
        setups.append((kind, root, target))
        calls.append((*_args(role, data, maps, root / "runs"), "--json"))
    # every bad file at once, for --skip-bad
    allroot = tmp_path / "all"
    data, maps = marked_photos.folder_with_maps(allroot, n=3)
    for i, kind in enumerate(kinds):
        _plant(data, maps, role, kind, _stem(kind, i), png, jpg, marked_photos)
    calls.append((*_args(role, data, maps, allroot / "runs"), "--json", "--skip-bad"))
    procs = two_at_a_time(fake_cli, calls, plugins=plugins)
    word = role.split()[0]
    failures = []
    for (kind, root, target), proc in zip(setups, procs):
        name, _, words = BAD_FILES[kind]
        valid = words is None
        command = (
            f"dbdbench run --method fake-sharp --images DIR --gt DIR  (bad photo {target.name})"
            if role == "image (run)"
            else f"dbdbench score --maps DIR --gt DIR --gt-polarity focus  (bad {word} {target.name})"
        )
        if kind == "unreadable permissions" and IS_ROOT:
            command += "  [EACCES simulated: tests run as root]"
        c = case(
            "unreadable input",
            f"{kind}: {role}",
            command,
            "exit 0, scored normally"
            if valid
            else f"exit 2, one error line naming {target.name} ({words or 'the file'})",
        )
        try:
            if valid:
                r = proc.succeeded()
                assert r["n_images"] == 4 and not r["skipped"]
                c.ok(f"exit 0, {r['n_images']} images scored")
                continue
            line = proc.error_line(target.name, words if words != name else target.name)
            lost = 0
            if role == "image (run)":  # the good photos' maps are all kept
                lost = 3 - len(valid_pngs(maps_of(root / "runs", "fake-sharp")))
                assert lost == 0
            c.ok(f"exit 2: {short(line.replace(str(root), '$DIR'))}", lost)
        except AssertionError as exc:
            c.observed = short(str(exc), 300)
            failures.append(f"{kind}: {exc}")
        finally:
            if target.is_file() and not target.is_symlink():
                target.chmod(0o644)
    bad = [k for k in kinds if BAD_FILES[k][2] is not None]
    c = case(
        "unreadable input",
        f"all {len(bad)} bad {word} files at once, --skip-bad",
        f"{'dbdbench run' if word == 'image' else 'dbdbench score'} ... --skip-bad",
        f"exit 0; the {len(bad)} bad files listed in 'skipped' with their problem; the 3 good ones (+ valid odd ones) scored",
    )
    try:
        result = procs[-1].succeeded()
        skipped = sorted(s["stem"] for s in result["skipped"])
        assert skipped == sorted(_stem(k, i) for i, k in enumerate(kinds) if BAD_FILES[k][2] is not None), result[
            "skipped"
        ]
        assert result["n_images"] == 3 + (len(kinds) - len(bad))
        c.ok(f"exit 0; skipped {len(skipped)} (each with its reason); {result['n_images']} scored")
    except AssertionError as exc:
        c.observed = short(str(exc), 300)
        failures.append(f"--skip-bad: {exc}")
    assert not failures, "\n".join(failures)
