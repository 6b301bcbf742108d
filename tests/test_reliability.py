"""Reliability suite (issue 5): bad inputs, interruptions and failures never crash
with a traceback or lose results.

Every case drives the real command line (in a subprocess, ``python -m dbdbench``, or for argument handling
through ``dbdbench.cli.main`` in-process) and checks: the exit code; on failure exactly one ``error:`` line on stderr that
names the file / method / image, and no Python traceback; that maps already
written survive; and that ``--skip-bad`` lists what it skipped in the result.

Fake methods come from ``tests/reliability_plugins.py`` (loaded with
``DBDBENCH_EXTRA_PLUGINS``). Fixtures are generated in temporary folders.

Set ``DBDBENCH_RELIABILITY_REPORT=path.json`` to write the case table (category,
case, command, expected, observed, survived, results lost) that
``docs/reliability.md`` reports.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MARKER = (1, 2, 3)  # reliability_plugins: an image whose top-left pixel is MARKER makes fake-* methods misbehave
H, W = 40, 48
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

# ---------------------------------------------------------------------------- case log


@dataclass
class Case:
    category: str
    case: str
    command: str
    expected: str
    observed: str = "test did not finish"
    survived: bool = False
    results_lost: int = 0
    notes: list = field(default_factory=list)

    def ok(self, observed: str, lost: int = 0) -> None:
        observed = re.sub(r"\S*/pytest-\d+/[^/\s]+", "$TMP", observed)  # reproducible text: no temp paths
        self.observed, self.survived, self.results_lost = observed, True, lost


CASES: list[Case] = []


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    target = os.environ.get("DBDBENCH_RELIABILITY_REPORT")
    if target:
        rows = [
            {k: re.sub(r"\S*/pytest-\d+/[^/\s]+", "$TMP", v) if isinstance(v, str) else v for k, v in asdict(c).items()}
            for c in CASES
        ]
        summary = {
            "tried": len(rows),
            "survived": sum(r["survived"] for r in rows),
            "results_lost": sum(r["results_lost"] for r in rows),
            "cases": rows,
        }
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def case(category: str, name: str, command: str, expected: str) -> Case:
    c = Case(category, name, command, expected)
    CASES.append(c)
    return c


# ---------------------------------------------------------------------------- running the CLI


def _env(extra_plugins: str = "reliability_plugins", **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("DBDBENCH_DEBUG", "DBDBENCH_STRICT_PLUGINS", "DBDBENCH_FAKE_SLEEP"):
        env.pop(key, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), str(REPO), env.get("PYTHONPATH", "")]))
    env["DBDBENCH_EXTRA_PLUGINS"] = extra_plugins
    # Only the suite's own fake methods (plus the built-in datasets): installed plugins are not what these cases
    # test, and importing them (scipy, skimage) costs each of the suite's ~100 subprocesses about 0.3 s.
    env["DBDBENCH_LOAD_PLUGINS"] = "none"
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def cli(
    *args, cwd: Path | None = None, timeout: float = 120, plugins: str = "reliability_plugins", **env
) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "dbdbench", *map(str, args)]
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=_env(plugins, **env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
    )


def cli_in_process(monkeypatch, *args, plugins: str = "reliability_plugins") -> subprocess.CompletedProcess:
    """The same command through ``dbdbench.cli.main`` in this process, with the environment ``cli`` would give.

    For argument handling and one-line errors a fresh interpreter proves nothing more, and each costs about half a
    second; the cases that are about the process itself (exit on signals, resume after a kill, no traceback
    from an unexpected failure) keep using ``cli``.
    """
    import contextlib
    import io

    from dbdbench.cli import main
    from dbdbench.plugins import reset_registry

    for key, value in _env(plugins).items():
        monkeypatch.setenv(key, value)
    monkeypatch.syspath_prepend(str(HERE))
    reset_registry()
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        reset_registry()
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def cli_many(calls: list[tuple]) -> list[subprocess.CompletedProcess]:
    """Run independent CLI calls two at a time (the suite's 2-core budget)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda a: cli(*a), calls))


def error_line(proc: subprocess.CompletedProcess, *needles: str, code: int = 2) -> str:
    """A clean failure: exit ``code``, no traceback, exactly one ``error:`` line, which contains every needle."""
    err = proc.stderr
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}; stderr:\n{err}"
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, f"expected one error line, got:\n{err}"
    others = [ln for ln in lines if not ln.startswith(("error:", "warning:"))]
    assert not others, f"unexpected stderr lines (wrapped or stray output):\n{err}"
    for needle in needles:
        assert needle in errors[0], f"{needle!r} not in {errors[0]!r}"
    return errors[0]


def succeeded(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, f"exit {proc.returncode}; stderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    for line in proc.stderr.splitlines():  # warnings and notes are single lines too
        assert (
            line.startswith(("warning:", "maps and results", "skipped ", "wrote "))
            or " GT images had no map" in line
            or not line.strip()
        ), proc.stderr
    return json.loads(proc.stdout) if proc.stdout.lstrip().startswith("{") else {}


def short(text: str, n: int = 160) -> str:
    text = re.sub(r"\S*/pytest-\d+/[^/\s]+", "$TMP", " ".join(text.split()))
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------- fixtures


def photo(rng, h=H, w=W, marked=False) -> np.ndarray:
    """Left half textured (in focus), right half flat (blurred)."""
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    a[:, w // 2 :] = 128
    if marked:
        a[0, 0] = MARKER
    return a


def mask(h=H, w=W) -> np.ndarray:
    g = np.zeros((h, w), np.uint8)
    g[:, : w // 2] = 255
    return g


def make_dataset(root: Path, n: int = 6, marked: tuple[int, ...] = (), prefix: str = "im") -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    img, gt = root / "images", root / "gt"
    img.mkdir(parents=True, exist_ok=True)
    gt.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(photo(rng, marked=i in marked)).save(img / f"{prefix}{i:02d}.png")
        Image.fromarray(mask()).save(gt / f"{prefix}{i:02d}.png")
    return img, gt


def folder_run(parent: Path) -> Path:
    """The run folder of the one folder dataset under a method's folder (named ``folder@<hash>``)."""
    found = sorted(parent.glob("folder*"))
    assert len(found) == 1, found
    return found[0]


def maps_of(run_root: Path, method: str) -> Path:
    return folder_run(run_root / method) / "maps"


def valid_pngs(folder: Path) -> dict[str, np.ndarray]:
    out = {}
    for p in sorted(folder.glob("*.png")):
        with Image.open(p) as im:
            im.load()
            out[p.stem] = np.asarray(im)
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted fake-sharp run on 8 images, and its maps, to compare resumed and concurrent runs against."""
    root = tmp_path_factory.mktemp("reference")
    img, gt = make_dataset(root, n=8)
    proc = cli(
        "run",
        "--method",
        "fake-slow",
        "--images",
        img,
        "--gt",
        gt,
        "--gt-polarity",
        "focus",
        "--out",
        root / "runs",
        "--json",
        DBDBENCH_FAKE_SLEEP="0",
    )
    result = succeeded(proc)
    run_dir = folder_run(root / "runs" / "fake-slow")
    return {
        "root": root,
        "img": img,
        "gt": gt,
        "result": result,
        "per_image": read_per_image(run_dir / "per_image.csv"),
        "maps": valid_pngs(run_dir / "maps"),
    }


def read_per_image(path: Path) -> dict[str, dict]:
    with open(path, newline="") as fh:
        return {row["stem"]: {k: v for k, v in row.items() if k != "predict_s"} for row in csv.DictReader(fh)}


def same_scores(result: dict, run_dir: Path, ref: dict) -> None:
    assert result["n_images"] == ref["result"]["n_images"]
    assert result["metrics"] == ref["result"]["metrics"]
    assert result["curves"] == ref["result"]["curves"]
    assert read_per_image(run_dir / "per_image.csv") == ref["per_image"]
    maps = valid_pngs(run_dir / "maps")
    assert maps.keys() == ref["maps"].keys()
    for stem, arr in maps.items():
        assert np.array_equal(arr, ref["maps"][stem]), stem


# ---------------------------------------------------------------------------- 1. unreadable inputs

BAD_FILES = {
    # kind: (file name, writer(path, good_png_bytes, good_jpeg_bytes), words the error must contain)
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
    "JPEG bytes named .png": (
        "x.png",
        lambda p, png, jpg: p.write_bytes(jpg),
        None,
    ),  # valid: content decides, not the name
    "decompression bomb header": ("x.png", lambda p, png, jpg: p.write_bytes(_bomb_png()), "too large"),
    "broken symlink": ("x.png", lambda p, png, jpg: p.symlink_to(p.parent / "does-not-exist.png"), "no such file"),
    "symlink loop": ("x.png", lambda p, png, jpg: p.symlink_to(p), "x.png"),
    "unreadable permissions": (
        "xNOPERM.png",
        lambda p, png, jpg: (p.write_bytes(png), p.chmod(0)),
        "permission denied",
    ),
}


def _bomb_png() -> bytes:
    """A PNG whose header claims 100000 x 100000 pixels (the pixels themselves are absent)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    )


def _good_bytes(tmp: Path) -> tuple[bytes, bytes]:
    rng = np.random.default_rng(2)
    Image.fromarray(photo(rng)).save(tmp / "g.png")
    Image.fromarray(photo(rng)).save(tmp / "g.jpg", quality=90)
    return (tmp / "g.png").read_bytes(), (tmp / "g.jpg").read_bytes()


def _bad_env(kind: str) -> dict:
    # Root reads chmod-000 files anyway: there, simulate EACCES inside the subprocess (reliability_eacces).
    return {"plugins": "reliability_plugins,reliability_eacces"} if kind == "unreadable permissions" and IS_ROOT else {}


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


def _plant(
    folder_img: Path, folder_gt: Path, maps: Path | None, role: str, kind: str, stem: str, png: bytes, jpg: bytes
) -> Path:
    """Put one bad file of ``kind`` into the ``role`` position (named ``stem`` + the kind's extension); pair it."""
    name = stem + Path(BAD_FILES[kind][0]).suffix
    if role == "image (run)":
        target = folder_img / name
        Image.fromarray(mask()).save(folder_gt / f"{stem}.png")
    elif role == "map (score)":
        target = maps / name
        Image.fromarray(mask()).save(folder_gt / f"{stem}.png")
    else:
        target = folder_gt / name
        Image.fromarray(mask()).save(maps / f"{stem}.png")
    BAD_FILES[kind][1](target, png, jpg)
    return target


def _stem(kind: str, i: int) -> str:
    return f"x{i:02d}" + ("NOPERM" if kind == "unreadable permissions" else "")


def _args(role: str, img: Path, gt: Path, maps: Path, out: Path) -> tuple:
    if role == "image (run)":
        return ("run", "--method", "fake-sharp", "--images", img, "--gt", gt, "--gt-polarity", "focus", "--out", out)
    return ("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus")


@pytest.mark.parametrize("role", list(ROLES))
def test_unreadable_inputs(tmp_path, role):
    """Each bad file alone: one clean error line naming it. All of them together with --skip-bad: each listed, the rest scored."""
    png, jpg = _good_bytes(tmp_path)
    plugins = "reliability_plugins,reliability_eacces" if IS_ROOT else "reliability_plugins"
    kinds = ROLES[role]
    calls, setups = [], []
    for i, kind in enumerate(kinds):
        root = tmp_path / f"k{i}"
        img, gt = make_dataset(root, n=3)
        maps = root / "maps"
        shutil.copytree(gt, maps)
        target = _plant(img, gt, maps, role, kind, _stem(kind, i), png, jpg)
        setups.append((kind, root, target))
        calls.append((*_args(role, img, gt, maps, root / "runs"), "--json"))
    # every bad file at once, for --skip-bad
    allroot = tmp_path / "all"
    img, gt = make_dataset(allroot, n=3)
    maps = allroot / "maps"
    shutil.copytree(gt, maps)
    for i, kind in enumerate(kinds):
        _plant(img, gt, maps, role, kind, _stem(kind, i), png, jpg)
    calls.append((*_args(role, img, gt, maps, allroot / "runs"), "--json", "--skip-bad"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(lambda a: cli(*a, plugins=plugins), calls))
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
                r = succeeded(proc)
                assert r["n_images"] == 4 and not r["skipped"]
                c.ok(f"exit 0, {r['n_images']} images scored")
                continue
            line = error_line(proc, target.name, words if words != name else target.name)
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
        result = succeeded(procs[-1])
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


# ---------------------------------------------------------------------------- 2. odd but valid inputs


def _exif_rotated(path: Path, rng) -> tuple[int, int]:
    """A JPEG stored 48 wide x 40 high with EXIF orientation 6 (rotate 90 CW): displayed 40 wide x 48 high."""
    im = Image.fromarray(photo(rng))
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(path, exif=exif.tobytes(), quality=95)
    return W, H  # displayed (height, width)


ODD = {
    "grayscale (L)": lambda p, rng: Image.fromarray(photo(rng)[..., 0]).save(p),
    "RGBA": lambda p, rng: Image.fromarray(np.dstack([photo(rng), np.full((H, W), 77, np.uint8)])).save(p),
    "palette (P)": lambda p, rng: Image.fromarray(photo(rng)).convert("P", palette=Image.Palette.ADAPTIVE).save(p),
    "16-bit PNG (I;16)": lambda p, rng: Image.fromarray(photo(rng)[..., 0].astype(np.uint16) * 257).save(p),
    "1-bit (mode 1)": lambda p, rng: Image.fromarray(photo(rng)[..., 0] > 100).save(p),
    "gray+alpha (LA)": lambda p, rng: Image.fromarray(photo(rng)).convert("LA").save(p),
    "CMYK JPEG": lambda p, rng: Image.fromarray(photo(rng)).convert("CMYK").save(p.with_suffix(".jpg")),
    "upper-case .PNG extension": lambda p, rng: Image.fromarray(photo(rng)).save(p.with_suffix(".PNG"), format="PNG"),
    "BMP": lambda p, rng: Image.fromarray(photo(rng)).save(p.with_suffix(".bmp")),
    "float32 TIFF": lambda p, rng: Image.fromarray(photo(rng)[..., 0].astype(np.float32)).save(p.with_suffix(".tif")),
    "EXIF-rotated JPEG": None,
    "8x8 image": None,
    "non-ASCII and space path": None,
}


def _odd_file(img: Path, kind: str, stem: str, rng) -> tuple[int, int]:
    """Write the odd photo for ``kind`` as ``img/stem.*``; return its displayed (height, width)."""
    if kind == "EXIF-rotated JPEG":
        return _exif_rotated(img / f"{stem}.jpg", rng)
    if kind == "8x8 image":
        Image.fromarray(photo(rng, 8, 8)).save(img / f"{stem}.png")
        return 8, 8
    if kind == "non-ASCII and space path":
        Image.fromarray(photo(rng)).save(img / f"{stem}.png")
        return H, W
    ODD[kind](img / f"{stem}.png", rng)
    return H, W


def test_odd_valid_inputs(tmp_path):
    """Every odd-but-valid file in one dataset under a non-ASCII, space-containing folder: run, then score each
    odd file as a map and as GT. Every one is read with its displayed size and scored."""
    rng = np.random.default_rng(3)
    base = tmp_path / "données ü 写真 dir"
    img, gt = make_dataset(base, n=2)
    stems, shapes = {}, {}
    for i, kind in enumerate(ODD):
        stem = "été photo 1" if kind == "non-ASCII and space path" else f"odd{i:02d}"
        stems[kind] = stem
        shapes[kind] = _odd_file(img, kind, stem, rng)
        Image.fromarray(mask(*shapes[kind])).save(gt / f"{stem}.png")
    # the odd files as maps (against plain GT) and as GT (against plain maps)
    as_maps, as_gt_maps, as_gt = base / "as maps", base / "plain maps", base / "as gt"
    for d in (as_maps, as_gt_maps, as_gt):
        d.mkdir()
    for kind, stem in stems.items():
        odd = next(p for p in img.iterdir() if p.name.startswith(stem + "."))
        shutil.copy(odd, as_maps / odd.name)
        shutil.copy(odd, as_gt / odd.name)
        Image.fromarray(mask(*shapes[kind])).save(as_gt_maps / f"{stem}.png")
    out = base / "runs"
    run, score_maps, score_gt = cli_many(
        [
            (
                "run",
                "--method",
                "fake-sharp",
                "--images",
                img,
                "--gt",
                gt,
                "--gt-polarity",
                "focus",
                "--out",
                out,
                "--json",
            ),
            (
                "score",
                "--maps",
                as_maps,
                "--gt",
                gt,
                "--gt-polarity",
                "focus",
                "--allow-missing",
                "--out",
                base / "s1",
                "--json",
            ),
            ("score", "--maps", as_gt_maps, "--gt", as_gt, "--gt-polarity", "focus", "--out", base / "s2", "--json"),
        ]
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
    result = succeeded(run)
    assert result["n_images"] == 2 + len(ODD) and not result["skipped"], result["skipped"]
    maps = valid_pngs(maps_of(out, "fake-sharp"))
    rows = [read_per_image(base / d / "per_image.csv") for d in ("s1", "s2")]
    assert succeeded(score_maps)["n_images"] == len(ODD) and succeeded(score_gt)["n_images"] == len(ODD)
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


def test_very_large_image(tmp_path):
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
    result = succeeded(
        cli(
            "run",
            "--method",
            "fake-fast",
            "--images",
            img,
            "--gt",
            gt,
            "--gt-polarity",
            "focus",
            "--out",
            tmp_path / "runs",
            "--json",
        )
    )
    with Image.open(maps_of(tmp_path / "runs", "fake-fast") / "big.png") as m:
        assert m.size == (6000, 4000)
    assert result["metrics"]["f_max"] > 0.8
    c.ok(f"exit 0; 6000x4000 map; f_max {result['metrics']['f_max']:.3f}")


# ---------------------------------------------------------------------------- 3. mismatches


def test_gt_without_image(tmp_path):
    img, gt = make_dataset(tmp_path, n=3)
    Image.fromarray(mask()).save(gt / "lonely.png")
    c = case(
        "mismatch",
        "GT without image (run)",
        "dbdbench run --method fake-sharp --images DIR --gt DIR",
        "exit 2 naming the GT file; --skip-bad: exit 0, listed in 'skipped'",
    )
    out = tmp_path / "runs"
    line = error_line(
        cli("run", "--method", "fake-sharp", "--images", img, "--gt", gt, "--gt-polarity", "focus", "--out", out),
        "lonely.png",
        "no matching image",
    )
    result = succeeded(
        cli(
            "run",
            "--method",
            "fake-sharp",
            "--images",
            img,
            "--gt",
            gt,
            "--gt-polarity",
            "focus",
            "--out",
            out,
            "--skip-bad",
            "--json",
        )
    )
    assert [s["stem"] for s in result["skipped"]] == ["lonely"] and result["n_images"] == 3
    c.ok(f"exit 2: {short(line)} | --skip-bad: skipped [lonely]")


def test_image_without_gt(tmp_path):
    img, gt = make_dataset(tmp_path, n=3)
    Image.fromarray(photo(np.random.default_rng(5))).save(img / "orphan.png")
    c = case(
        "mismatch",
        "image without GT (run)",
        "dbdbench run --method fake-sharp --images DIR --gt DIR",
        "exit 2 naming the image; --skip-bad: exit 0, listed in 'skipped'",
    )
    out = tmp_path / "runs"
    line = error_line(
        cli("run", "--method", "fake-sharp", "--images", img, "--gt", gt, "--gt-polarity", "focus", "--out", out),
        "orphan.png",
        "no ground truth",
    )
    result = succeeded(
        cli(
            "run",
            "--method",
            "fake-sharp",
            "--images",
            img,
            "--gt",
            gt,
            "--gt-polarity",
            "focus",
            "--out",
            out,
            "--skip-bad",
            "--json",
        )
    )
    assert [s["stem"] for s in result["skipped"]] == ["orphan"] and result["n_images"] == 3
    c.ok(f"exit 2: {short(line)} | --skip-bad: skipped [orphan]")


def test_map_without_gt_and_gt_without_map(tmp_path):
    _, gt = make_dataset(tmp_path, n=4)
    maps = tmp_path / "maps"
    shutil.copytree(gt, maps)
    Image.fromarray(mask()).save(maps / "stray.png")  # a map with no GT
    c1 = case(
        "mismatch",
        "map without GT (score)",
        "dbdbench score --maps DIR --gt DIR",
        "exit 0; the GT defines the images scored; the stray map is reported, not scored",
    )
    r = succeeded(cli("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus", "--json"))
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
    line = error_line(cli("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus"), "im02.png", "no map")
    r = succeeded(cli("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus", "--allow-missing", "--json"))
    assert r["n_images"] == 3 and r["missing_maps"]["count"] == 1 and r["missing_maps"]["stems"] == ["im02"]
    c2.ok(f"exit 2: {short(line)} | --allow-missing: 3 scored, missing_maps.count 1")


def test_map_size_differs_from_gt(tmp_path):
    _, gt = make_dataset(tmp_path, n=2)
    maps = tmp_path / "maps"
    shutil.copytree(gt, maps)
    Image.fromarray(mask(H * 2, W * 2)).save(maps / "im01.png")
    c = case(
        "mismatch",
        "map of a different size than its GT (score)",
        "dbdbench score ... [--resize none]",
        "exit 0 (map resized to GT, bilinear); with --resize none: exit 2 naming the map and both sizes",
    )
    r = succeeded(cli("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus", "--json"))
    assert r["n_images"] == 2 and r["metrics"]["f_max"] > 0.99
    line = error_line(
        cli("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus", "--resize", "none"),
        "im01.png",
        f"{W * 2}x{H * 2}",
        f"{W}x{H}",
    )
    c.ok(f"exit 0, f_max {r['metrics']['f_max']:.3f} | --resize none: exit 2: {short(line)}")


GT_KINDS = {
    "non-binary GT (0..255 gradient)": lambda: np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1)),
    "all-background GT": lambda: np.zeros((H, W), np.uint8),
    "all-foreground GT": lambda: np.full((H, W), 255, np.uint8),
}
MAP_KINDS = {
    "constant map 0": lambda: np.zeros((H, W), np.uint8),
    "constant map 255": lambda: np.full((H, W), 255, np.uint8),
    "constant map 128": lambda: np.full((H, W), 128, np.uint8),
}


def test_degenerate_gt_and_maps(tmp_path):
    """Scores stay finite and within [0, 1] for non-binary / empty / full GT and constant maps, with and without min-max."""
    kinds = list(GT_KINDS) + list(MAP_KINDS)
    _, gt = make_dataset(tmp_path, n=len(kinds) + 1)
    maps = tmp_path / "maps"
    shutil.copytree(gt, maps)
    stem_of = {}
    for i, kind in enumerate(kinds, start=1):
        stem_of[kind] = f"im{i:02d}"
        if kind in GT_KINDS:
            Image.fromarray(GT_KINDS[kind]()).save(gt / f"im{i:02d}.png")
        else:
            Image.fromarray(MAP_KINDS[kind]()).save(maps / f"im{i:02d}.png")
    procs = cli_many(
        [
            ("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus", "--out", tmp_path / "a", "--json"),
            (
                "score",
                "--maps",
                maps,
                "--gt",
                gt,
                "--gt-polarity",
                "blur",
                "--minmax",
                "--positive",
                "blur",
                "--out",
                tmp_path / "b",
                "--json",
            ),
        ]
    )
    for p in procs:
        r = succeeded(p)
        for key, value in r["metrics"].items():
            assert value is not None and np.isfinite(value) and 0 <= value <= 1, (key, value)
    # b overrides the protocol (dbd+custom), so its files carry the variant name: per_image.dbd_custom.csv
    rows = [
        read_per_image(tmp_path / "a" / "per_image.csv"),
        read_per_image(tmp_path / "b" / "per_image.dbd_custom.csv"),
    ]
    for kind in kinds:
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


def test_gt_size_differs_from_image(tmp_path):
    img, gt = make_dataset(tmp_path, n=2)
    Image.fromarray(mask(H // 2, W // 2)).save(gt / "im01.png")
    c = case(
        "mismatch",
        "GT smaller than its photo (run)",
        "dbdbench run --method fake-sharp ...",
        "exit 0; map kept at photo size, resized to GT for scoring",
    )
    r = succeeded(
        cli(
            "run",
            "--method",
            "fake-sharp",
            "--images",
            img,
            "--gt",
            gt,
            "--gt-polarity",
            "focus",
            "--out",
            tmp_path / "runs",
            "--json",
        )
    )
    assert r["n_images"] == 2
    c.ok(f"exit 0; f_max {r['metrics']['f_max']:.3f}")


# ---------------------------------------------------------------------------- 4. method failures

FAILING = {
    "fake-raise": "raised RuntimeError",
    "fake-nan": "NaN/inf",
    "fake-shape": "shape",
    "fake-range": "expected [0, 1]",
    "fake-none": "NoneType",
    "fake-exit": "SystemExit",
}


METHOD_CASES = [(m, 1) for m in FAILING] + [("fake-raise", 2), ("fake-nan", 2)]  # the process-pool path too


def test_method_failures(tmp_path):
    """Each failing method on image im02 of 5: one error line naming method and image, earlier maps kept;
    then --skip-bad: exit 0, im02 listed in 'skipped', the kept maps reused."""
    setups = []
    for method, workers in METHOD_CASES:
        root = tmp_path / f"{method}-{workers}"
        img, gt = make_dataset(root, n=5, marked=(2,))
        setups.append(
            (
                method,
                workers,
                root / "runs",
                (
                    "run",
                    "--method",
                    method,
                    "--images",
                    img,
                    "--gt",
                    gt,
                    "--gt-polarity",
                    "focus",
                    "--out",
                    root / "runs",
                    "--workers",
                    workers,
                ),
            )
        )
    plain = cli_many([args for *_, args in setups])
    kept_by = [set(valid_pngs(maps_of(out, method))) for method, _, out, _ in setups]
    skip = cli_many([(*args, "--skip-bad", "--json") for *_, args in setups])
    failures = []
    for (method, workers, out, _), p, s, kept in zip(setups, plain, skip, kept_by):
        c = case(
            "method failure",
            f"{method} on one image (--workers {workers})",
            f"dbdbench run --method {method} --workers {workers} ... [--skip-bad]",
            "exit 2, one line naming method and image, maps before it kept; --skip-bad: exit 0, image in 'skipped'",
        )
        try:
            line = error_line(p, f"'{method}'", "'im02'", FAILING[method])
            assert {"im00", "im01"} <= kept and "im02" not in kept, kept
            result = succeeded(s)
            assert [x["stem"] for x in result["skipped"]] == ["im02"] and result["n_images"] == 4, result["skipped"]
            assert result["run"]["maps_reused"] >= 2
            lost = len(kept - set(valid_pngs(maps_of(out, method))))
            assert lost == 0
            c.ok(
                f"exit 2: {short(line.split(' (')[0])} | --skip-bad: exit 0, skipped [im02], {result['run']['maps_reused']} maps reused",
                lost,
            )
        except AssertionError as exc:
            c.observed = short(str(exc), 300)
            failures.append(f"{method}/{workers}: {exc}")
    assert not failures, "\n".join(failures)


def test_method_constructor_fails(tmp_path):
    img, gt = make_dataset(tmp_path, n=2)
    c = case(
        "method failure",
        "method constructor raises (missing weights)",
        "dbdbench run --method fake-init-fail ...",
        "exit 2, one line naming the method and the cause",
    )
    line = error_line(
        cli(
            "run",
            "--method",
            "fake-init-fail",
            "--images",
            img,
            "--gt",
            gt,
            "--gt-polarity",
            "focus",
            "--out",
            tmp_path / "r",
        ),
        "'fake-init-fail'",
        "weights file not found",
    )
    c.ok(f"exit 2: {short(line)}")


def test_plugin_fails_to_import(tmp_path):
    img, gt = make_dataset(tmp_path, n=2)
    plugins = "reliability_plugins,reliability_broken_plugin"
    c = case(
        "method failure",
        "a plugin fails to import",
        "DBDBENCH_EXTRA_PLUGINS=...,reliability_broken_plugin dbdbench run|list|plugins",
        "other methods still run (one warning line); 'plugins' shows the error; unknown method names the broken plugin; "
        "DBDBENCH_STRICT_PLUGINS=1: exit 2 naming the plugin",
    )
    run = cli(
        "run",
        "--method",
        "fake-sharp",
        "--images",
        img,
        "--gt",
        gt,
        "--gt-polarity",
        "focus",
        "--out",
        tmp_path / "r",
        "--json",
        plugins=plugins,
    )
    succeeded(run)
    warnings = [ln for ln in run.stderr.splitlines() if "reliability_broken_plugin" in ln]
    assert len(warnings) == 1 and warnings[0].startswith("warning:") and "libfoo" in warnings[0]
    listing = cli("plugins", "--json", plugins=plugins)
    rows = {r["name"]: r for r in json.loads(listing.stdout)}
    assert (
        rows["reliability_broken_plugin"]["status"] == "failed"
        and "libfoo" in rows["reliability_broken_plugin"]["error"]
    )
    succeeded(cli("list", "methods", plugins=plugins))
    error_line(
        cli("run", "--method", "broken-method", "--images", img, "--gt", gt, "--gt-polarity", "focus", plugins=plugins),
        "'broken-method'",
        "reliability_broken_plugin",
    )
    line = error_line(
        cli("list", "methods", plugins=plugins, DBDBENCH_STRICT_PLUGINS="1"), "reliability_broken_plugin", "libfoo"
    )
    c.ok(f"run ok with 1 warning line; plugins lists the failure; strict: {short(line)}")


def test_debug_shows_traceback(tmp_path):
    img, gt = make_dataset(tmp_path, n=2, marked=(1,))
    c = case(
        "method failure",
        "--debug shows the traceback",
        "dbdbench --debug run --method fake-raise ...",
        "non-zero exit with a traceback (for developers)",
    )
    p = cli(
        "--debug",
        "run",
        "--method",
        "fake-raise",
        "--images",
        img,
        "--gt",
        gt,
        "--gt-polarity",
        "focus",
        "--out",
        tmp_path / "r",
    )
    assert p.returncode != 0 and "Traceback" in p.stderr
    c.ok(f"exit {p.returncode}; traceback shown")


# ---------------------------------------------------------------------------- 5. interruptions


def _wait_for_maps(folder: Path, n: int, proc: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = len(list(folder.glob("*.png"))) if folder.is_dir() else 0
        if count >= n or proc.poll() is not None:
            return count
        time.sleep(0.02)
    return -1


@pytest.mark.parametrize(
    "sig,workers", [(signal.SIGINT, 1), (signal.SIGKILL, 1), (signal.SIGINT, 2), (signal.SIGKILL, 2)]
)
def test_interrupt_and_resume(tmp_path, reference, sig, workers):
    name = signal.Signals(sig).name
    c = case(
        "interruption",
        f"{name} mid-run (--workers {workers}), then re-run",
        f"dbdbench run --method fake-slow --workers {workers} ...; kill -{name[3:]} after 3 maps; re-run",
        "killed run keeps its maps (no torn files); re-run resumes (reuses them) and equals an uninterrupted run",
    )
    out = tmp_path / "runs"
    args = [
        sys.executable,
        "-m",
        "dbdbench",
        "run",
        "--method",
        "fake-slow",
        "--images",
        str(reference["img"]),
        "--gt",
        str(reference["gt"]),
        "--gt-polarity",
        "focus",
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--json",
    ]
    # A shell that starts jobs in the background (nohup ... &, some CI launchers) hands them SIGINT *ignored*,
    # and Python then never raises KeyboardInterrupt: give the child the default disposition a terminal would.
    proc = subprocess.Popen(
        args,
        env=_env(DBDBENCH_FAKE_SLEEP="0.4"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # The same images as the reference run, so the same run folder name (it follows the dataset's location).
    folder = out / "fake-slow" / folder_run(reference["root"] / "runs" / "fake-slow").name / "maps"
    written = _wait_for_maps(folder, 3, proc)
    assert written >= 3 and proc.poll() is None, f"run finished or stalled before the kill ({written} maps)"
    proc.send_signal(sig)
    # communicate() returns only once every process holding the pipes is gone: the pool's workers included,
    # so a SIGKILLed parent must not leave orphaned workers behind.
    _, err = proc.communicate(timeout=30)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, (proc.returncode, err)
        assert "Traceback" not in err and "interrupted" in err, err
    else:
        assert proc.returncode == -signal.SIGKILL
    survivors = valid_pngs(folder)  # every file that is there decodes: no torn map
    assert len(survivors) >= 3  # (with --workers 2, tasks already queued to the pool still finish after Ctrl-C)
    resumed = cli(
        "run",
        "--method",
        "fake-slow",
        "--images",
        reference["img"],
        "--gt",
        reference["gt"],
        "--gt-polarity",
        "focus",
        "--out",
        out,
        "--workers",
        workers,
        "--json",
        DBDBENCH_FAKE_SLEEP="0",
    )
    result = succeeded(resumed)
    assert result["run"]["maps_reused"] >= len(survivors)
    same_scores(result, folder_run(out / "fake-slow"), reference)
    lost = sum(1 for s, arr in survivors.items() if not np.array_equal(valid_pngs(folder)[s], arr))
    c.ok(
        f"killed: exit {proc.returncode}, {len(survivors)} valid maps kept; re-run: reused {result['run']['maps_reused']}, "
        "metrics + per-image rows + maps identical to the uninterrupted run",
        lost,
    )


def test_corrupt_cached_map_is_reported(tmp_path, reference):
    """A map torn by something outside dbdbench (a copy, a full disk) is named, not silently scored."""
    out = tmp_path / "runs"
    shutil.copytree(reference["root"] / "runs", out)
    folder = maps_of(out, "fake-slow")
    data = (folder / "im03.png").read_bytes()
    (folder / "im03.png").write_bytes(data[: len(data) // 2])
    c = case(
        "interruption",
        "a cached map torn outside dbdbench, then re-run",
        "dbdbench run --method fake-slow ... (maps/im03.png truncated)",
        "exit 2 naming the map and suggesting --force; --force recomputes and equals the reference",
    )
    args = (
        "run",
        "--method",
        "fake-slow",
        "--images",
        reference["img"],
        "--gt",
        reference["gt"],
        "--gt-polarity",
        "focus",
        "--out",
        out,
        "--json",
    )
    line = error_line(cli(*args, DBDBENCH_FAKE_SLEEP="0"), "im03.png", "truncated")
    result = succeeded(cli(*args, "--force", DBDBENCH_FAKE_SLEEP="0"))
    same_scores(result, folder_run(out / "fake-slow"), reference)
    c.ok(f"exit 2: {short(line)} | --force: identical to reference")


# ---------------------------------------------------------------------------- 6. concurrency


def test_two_runs_same_output(tmp_path, reference):
    c = case(
        "concurrency",
        "two `run` processes writing the same output folder at once",
        "dbdbench run --method fake-slow --out SAME & dbdbench run --method fake-slow --out SAME",
        "both exit 0; every map decodes; results equal an uninterrupted run",
    )
    out = tmp_path / "runs"
    args = [
        sys.executable,
        "-m",
        "dbdbench",
        "run",
        "--method",
        "fake-slow",
        "--images",
        str(reference["img"]),
        "--gt",
        str(reference["gt"]),
        "--gt-polarity",
        "focus",
        "--out",
        str(out),
        "--json",
    ]
    procs = [
        subprocess.Popen(
            args,
            env=_env(DBDBENCH_FAKE_SLEEP="0.05"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (stdout, stderr) in zip(procs, outputs):
        assert p.returncode == 0 and "Traceback" not in stderr, stderr
        assert json.loads(stdout)["metrics"] == reference["result"]["metrics"]
    run_dir = folder_run(out / "fake-slow")
    same_scores(json.loads((run_dir / "result.json").read_text()), run_dir, reference)
    leftovers = [p.name for p in run_dir.rglob(".*.tmp")]
    assert not leftovers, leftovers
    c.ok("both exit 0; 8 valid maps; result.json/per_image.csv identical to reference; no temp files left")


# ---------------------------------------------------------------------------- 7. other commands and arguments


def _misc_cases(tmp: Path):
    img, gt = make_dataset(tmp, n=2)
    maps = tmp / "maps"
    shutil.copytree(gt, maps)
    afile = tmp / "a-file.txt"
    afile.write_text("x")
    binsubset = tmp / "subset.bin"
    binsubset.write_bytes(b"\xff\xfe\x00\x81")
    emptysubset = tmp / "empty.txt"
    emptysubset.write_text("# nothing\n")
    badsubset = tmp / "bad.txt"
    badsubset.write_text("im00\nnot-there\n")
    runs = tmp / "lb"
    (runs / "m" / "d").mkdir(parents=True)
    (runs / "m" / "d" / "result.json").write_text("{ torn")
    runs2 = tmp / "lb2"
    (runs2 / "m" / "d").mkdir(parents=True)
    (runs2 / "m" / "d" / "result.json").write_text("[]")
    runs3 = tmp / "lb3"  # one valid result
    (runs3 / "m" / "d").mkdir(parents=True)
    (runs3 / "m" / "d" / "result.json").write_text(
        json.dumps(
            {
                "protocol": {"name": "dbd"},
                "dataset": {"name": "d", "split": "all", "file_list_hash": "0"},
                "method": {"id": "m"},
                "n_images": 1,
                "metrics": dict.fromkeys(("mae", "f_max", "f_mean", "f_adaptive", "f_fixed"), 0.5),
                "environment": {},
            }
        )
    )
    sc = ("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus")
    rn = ("run", "--method", "fake-sharp", "--images", img, "--gt", gt, "--gt-polarity", "focus")
    # (case, args, expected exit, words in the error line)
    return [
        (
            "score: --maps does not exist",
            ("score", "--maps", tmp / "nope", "--gt", gt, "--gt-polarity", "focus"),
            2,
            ["nope", "not a folder"],
        ),
        (
            "score: --maps is a file",
            ("score", "--maps", afile, "--gt", gt, "--gt-polarity", "focus"),
            2,
            ["a-file.txt", "not a folder"],
        ),
        (
            "score: --gt does not exist",
            ("score", "--maps", maps, "--gt", tmp / "nogt", "--gt-polarity", "focus"),
            2,
            ["nogt"],
        ),
        (
            "score: --gt is an empty folder",
            ("score", "--maps", maps, "--gt", tmp / "emptygt", "--gt-polarity", "focus"),
            2,
            ["emptygt", "no ground-truth"],
        ),
        ("score: --out is an existing file", (*sc, "--out", afile), 2, ["a-file.txt"]),
        ("score: --subset not UTF-8", (*sc, "--subset", binsubset), 2, ["subset.bin", "UTF-8"]),
        ("score: --subset lists nothing", (*sc, "--subset", emptysubset), 2, ["empty.txt", "no image names"]),
        ("score: --subset names an unknown image", (*sc, "--subset", badsubset), 2, ["bad.txt", "not-there"]),
        ("score: --subset is a folder", (*sc, "--subset", tmp), 2, ["directory"]),
        ("score: --dataset unknown", ("score", "--maps", maps, "--dataset", "nosuch"), 2, ["nosuch"]),
        (
            "score: dataset root missing",
            ("score", "--maps", maps, "--dataset", "cuhk", "--root", tmp / "nocuhk"),
            2,
            ["nocuhk", "cuhk"],
        ),
        (
            "score: bad --split",
            ("score", "--maps", maps, "--dataset", "cuhk", "--root", tmp, "--split", "zzz"),
            2,
            ["zzz"],
        ),
        ("score: unknown --protocol", (*sc, "--protocol", "nosuch"), 2, ["nosuch"]),
        ("run: --limit 0", (*rn, "--limit", "0", "--out", tmp / "r"), 2, ["--limit"]),
        ("run: --limit -3", (*rn, "--limit", "-3", "--out", tmp / "r"), 2, ["--limit"]),
        ("run: unknown --option key", (*rn, "--option", "nope=1", "--out", tmp / "r"), 2, ["nope", "fake-sharp"]),
        ("run: malformed --option", (*rn, "--option", "novalue", "--out", tmp / "r"), 2, ["novalue"]),
        ("run: --out is an existing file", (*rn, "--out", afile), 2, ["a-file.txt"]),
        ("run: bad --device", (*rn, "--device", "tpu9", "--out", tmp / "r"), 2, ["tpu9"]),
        ("run: --images without --gt", ("run", "--method", "fake-sharp", "--images", img), 2, ["--gt"]),
        (
            "run: --images does not exist",
            (
                "run",
                "--method",
                "fake-sharp",
                "--images",
                tmp / "noimg",
                "--gt",
                gt,
                "--gt-polarity",
                "focus",
                "--out",
                tmp / "r",
            ),
            2,
            ["noimg"],
        ),
        ("leaderboard: folder does not exist", ("leaderboard", tmp / "no-runs"), 2, ["no-runs", "no such"]),
        ("leaderboard: torn result.json", ("leaderboard", runs), 2, ["result.json", "unreadable"]),
        ("leaderboard: result.json of the wrong shape", ("leaderboard", runs2), 2, ["result.json", "not a complete"]),
        ("leaderboard: --out in a missing folder", ("leaderboard", runs3, "--out", tmp / "new" / "lb.md"), 0, []),
        ("synth: --out is an existing file", ("synth", "--n", "2", "--size", "32", "--out", afile), 2, ["a-file.txt"]),
        ("synth: --n 0", ("synth", "--n", "0", "--size", "32", "--out", tmp / "s0"), 2, ["--n"]),
        ("synth: --n not a number", ("synth", "--n", "abc", "--out", tmp / "s1"), 2, ["--n"]),
        ("synth: --size below minimum", ("synth", "--n", "2", "--size", "4", "--out", tmp / "s2"), 2, ["--size"]),
        ("list: unknown kind", ("list", "nothing"), 2, ["nothing"]),
        ("unknown command", ("frobnicate",), 2, ["frobnicate"]),
    ]


#: Cases that fail because of a known, reported bug (name -> where). Empty: every case must pass.
KNOWN_BUGS: dict[str, str] = {}


def test_other_commands_and_bad_arguments(tmp_path, monkeypatch):
    (tmp_path / "emptygt").mkdir()
    cases = _misc_cases(tmp_path)
    procs = [cli_in_process(monkeypatch, *args) for _, args, _, _ in cases]
    failures = []
    for (name, args, code, words), proc in zip(cases, procs):
        command = "dbdbench " + " ".join(str(a).replace(str(tmp_path), "$TMP") for a in args)
        c = case(
            "arguments and other commands",
            name,
            command,
            f"exit {code}" + (f", one error line with {', '.join(words)}" if code else ", no traceback"),
        )
        try:
            if code == 0:
                succeeded(proc)
                c.ok("exit 0")
            else:
                # click's own usage errors print a usage block plus an 'Error:' line; ours print one 'error:' line
                if proc.stderr.lstrip().startswith("Usage:"):
                    assert proc.returncode == code and "Traceback" not in proc.stderr
                    assert any(w in proc.stderr for w in words), proc.stderr
                    c.ok(f"exit {proc.returncode}: click usage error: {short(proc.stderr.strip().splitlines()[-1])}")
                else:
                    line = error_line(proc, *words, code=code)
                    c.ok(f"exit 2: {short(line)}")
        except AssertionError as exc:
            c.observed = short(str(exc), 300)
            failures.append(f"{name}: {exc}")
    known = [name for name in KNOWN_BUGS if any(f.startswith(name + ":") for f in failures)]
    assert len(failures) == len(known), "\n".join(failures)
    if known:
        pytest.xfail("known, reported bug(s): " + "; ".join(KNOWN_BUGS[name] for name in known))


def test_non_utf8_file_names(tmp_path):
    """File names that are not valid UTF-8 (legal on Linux): a valid pair is run and scored (tables keep the
    original bytes); an unreadable one is reported in one line."""
    if sys.platform != "linux":
        pytest.skip("only Linux file systems accept arbitrary bytes in names")
    img, gt = make_dataset(tmp_path, n=2)
    maps = tmp_path / "maps"
    shutil.copytree(gt, maps)
    for folder in (img, gt, maps):
        shutil.copy(folder / "im00.png", os.fsencode(str(folder)) + b"/caf\xe9.png")
    c1 = case(
        "odd valid input",
        "non-UTF-8 bytes in file names (valid images)",
        "dbdbench run ...; dbdbench score --out DIR",
        "exit 0; scored; result.json and per_image.csv written",
    )
    run, score = cli_many(
        [
            (
                "run",
                "--method",
                "fake-sharp",
                "--images",
                img,
                "--gt",
                gt,
                "--gt-polarity",
                "focus",
                "--out",
                tmp_path / "r",
                "--json",
            ),
            ("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus", "--out", tmp_path / "s", "--json"),
        ]
    )
    assert succeeded(run)["n_images"] == 3 and succeeded(score)["n_images"] == 3
    assert b"caf\xe9" in (tmp_path / "s" / "per_image.csv").read_bytes()
    c1.ok("exit 0 (run and score); 3 scored; per_image.csv holds the original name bytes")
    with open(os.fsencode(str(gt)) + b"/bad\xff.png", "wb") as fh:
        fh.write(b"not an image")
    shutil.copy(maps / "im00.png", os.fsencode(str(maps)) + b"/bad\xff.png")
    c2 = case(
        "unreadable input",
        "non-UTF-8 bytes in the name of an unreadable GT",
        "dbdbench score --maps DIR --gt DIR [--skip-bad]",
        "exit 2, one error line naming the file; --skip-bad: exit 0, listed",
    )
    plain, skip = cli_many(
        [
            ("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus"),
            ("score", "--maps", maps, "--gt", gt, "--gt-polarity", "focus", "--skip-bad", "--json"),
        ]
    )
    line = error_line(plain, "bad", "not a readable image")
    r = succeeded(skip)
    assert r["n_images"] == 3 and len(r["skipped"]) == 1
    c2.ok(f"exit 2: {short(line.replace(str(tmp_path), '$TMP'))} | --skip-bad: exit 0, 1 skipped")


# ---------------------------------------------------------------------------- 8. resources


def test_scoring_memory_is_flat(tmp_path, shared):
    """Peak RSS of scoring does not grow with the number of maps (a small version of benchmarks/bench_memory.py)."""
    c = case(
        "resources",
        "peak RSS scoring 40 vs 400 CUHK HiFST maps",
        "python benchmarks/bench_memory.py --sizes 40,400",
        "peak RSS of 400 maps within 15% + 15 MiB of 40 maps",
    )
    out = tmp_path / "memory.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench_memory.py"),
            "--sizes",
            "40,400",
            "--data",
            str(shared),
            "--out",
            str(out),
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["n_maps"]: r for r in json.loads(out.read_text())["runs"]}
    small, large = rows[40]["peak_rss_mib"], rows[400]["peak_rss_mib"]
    assert large <= small * 1.15 + 15, (small, large)
    c.ok(f"40 maps: {small:.0f} MiB, 400 maps: {large:.0f} MiB")


# ---------------------------------------------------------------------------- docs/reliability.md tables


def render_docs(
    cases_json: Path = REPO / "benchmarks" / "results" / "reliability_cases.json",
    memory_json: Path = REPO / "benchmarks" / "results" / "memory.json",
    doc: Path = REPO / "docs" / "reliability.md",
) -> None:
    """Rewrite the generated tables of docs/reliability.md from the JSON the suite and bench_memory.py wrote."""

    def esc(t) -> str:
        return str(t).replace("|", "\\|").replace("\n", " ")

    d = json.loads(cases_json.read_text(encoding="utf-8"))
    out = [
        "| | count |",
        "|---|---|",
        f"| cases tried | **{d['tried']}** |",
        f"| survived (expected behaviour observed) | **{d['survived']}** |",
        f"| results lost | **{d['results_lost']}** |",
        "",
    ]
    cats: dict[str, list[int]] = {}
    for c in d["cases"]:
        row = cats.setdefault(c["category"], [0, 0, 0])
        row[0] += 1
        row[1] += c["survived"]
        row[2] += c["results_lost"]
    out += ["| category | tried | survived | results lost |", "|---|---|---|---|"]
    out += [f"| {k} | {a} | {b} | {lost} |" for k, (a, b, lost) in cats.items()]
    out += [
        "",
        "### Every case",
        "",
        "| # | category | case | command | expected | observed | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(d["cases"], 1):
        out.append(
            f"| {i} | {esc(c['category'])} | {esc(c['case'])} | `{esc(c['command'])}` | {esc(c['expected'])} | "
            f"{esc(c['observed'])} | {'yes' if c['survived'] else '**no**'} |"
        )
    text = doc.read_text(encoding="utf-8")

    def put(text: str, name: str, body: str) -> str:
        a, b = text.index(f"<!-- {name}:start -->"), text.index(f"<!-- {name}:end -->")
        return text[: a + len(f"<!-- {name}:start -->")] + "\n" + body + "\n" + text[b:]

    text = put(text, "cases", "\n".join(out))
    if memory_json.is_file():
        m = json.loads(memory_json.read_text())
        mem = ["| maps scored | peak RSS (MiB) | wall (s) | f_max |", "|---|---|---|---|"]
        mem += [f"| {r['n_maps']} | {r['peak_rss_mib']} | {r['wall_s']} | {r['f_max']:.4f} |" for r in m["runs"]]
        mem += [
            "",
            f"Machine: {m['machine']['platform']}, Python {m['machine']['python']}, {m['machine']['cpu_count']} CPUs; {m['created']}.",
        ]
        text = put(text, "memory", "\n".join(mem))
    doc.write_text(text, encoding="utf-8")


if __name__ == "__main__" and "--render" in sys.argv:
    render_docs()
