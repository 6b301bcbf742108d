"""Writing splits to disk: files, manifest, cache location, safe concurrent generation, streaming.

A split directory holds ``images/<stem>.png``, ``gt/<stem>.png`` (255 = in
focus), ``coc/<stem>.npz`` and ``depth/<stem>.npz`` (float32, losslessly
compressed: the maps are piecewise constant, so ~3 KB instead of 400 KB each;
read them with :func:`dbdbench.io.read_array`), and ``manifest.json`` listing
every file with its sha256 and the generator version. Files and folders get
the permissions of any ordinary file (the umask applies), so a lab can share
a cache.

A split is always built in a private temporary directory next to its final
place and renamed into place only when complete (manifest written last), so a
reader never sees a half-written split. A lock file serialises two processes
that want the same split: the second waits and then reuses the first's result.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ... import progress
from ...errors import DatasetError
from ...io import atomic_write_bytes, atomic_write_json, encode_npz, encode_png, make_temp_dir
from ...wording import plural
from . import params
from .render import SynthScene, render_scene

MANIFEST = "manifest.json"
SUBDIRS = {"images": ".png", "gt": ".png", "coc": ".npz", "depth": ".npz"}


def stem_for(split: str, index: int) -> str:
    return f"synth_{split}_{index:04d}"


def cache_root(root: str | Path | None = None) -> Path:
    """Where generated splits live: ``root``, else ``$DBDBENCH_CACHE/synth``, else the user cache dir."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("DBDBENCH_CACHE")
    if env:
        return Path(env).expanduser() / "synth"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dbdbench")) / "synth"


def split_dir(root: Path, split: str, n: int, seed: int, size: int) -> Path:
    """The cache path of one split: the generator version is part of it, so a new version never reads old files."""
    return root / f"v{params.GENERATOR_VERSION}" / f"{split}-n{n}-seed{seed}-{size}px"


def scene_files(scene: SynthScene) -> dict[str, bytes]:
    """The encoded files of one scene, keyed by sub-directory (fixed encoder settings: deterministic bytes)."""
    return {
        "images": encode_png(scene.image),
        "gt": encode_png(scene.gt.astype(np.uint8) * 255),
        "coc": encode_npz(scene.coc.astype(np.float32), "coc"),
        "depth": encode_npz(scene.depth.astype(np.float32), "depth"),
    }


def _render_one(job: tuple[str, str, int, int, int]) -> tuple[str, dict[str, str], dict[str, Any]]:
    out, split, seed, index, size = job
    scene = render_scene(seed, index, size, kind=split)
    stem = stem_for(split, index)
    hashes = {}
    for sub, data in scene_files(scene).items():
        rel = f"{sub}/{stem}{SUBDIRS[sub]}"
        atomic_write_bytes(Path(out) / rel, data)
        hashes[rel] = hashlib.sha256(data).hexdigest()
    return stem, hashes, {"stem": stem, **scene.info}


def _pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing as mp

    ctx: Any
    try:
        ctx = mp.get_context("fork")  # workers inherit the decoded photos of the parent
        from .textures import load_sources

        load_sources()
    except ValueError:  # pragma: no cover - platforms without fork
        ctx = mp.get_context()
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


@contextmanager
def _lock(path: Path):
    """An exclusive advisory lock (POSIX); a no-op where fcntl is unavailable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover
        yield
        return
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def is_current(
    folder: Path, split: str | None = None, n: int | None = None, seed: int | None = None, size: int | None = None
) -> bool:
    """True when ``folder`` holds a complete split of the current generator version (and the given parameters)."""
    m = read_manifest(folder)
    if not m or m.get("generator_version") != params.GENERATOR_VERSION:
        return False
    for key, want in (("split", split), ("n", n), ("seed", seed), ("size", size)):
        if want is not None and m.get(key) != want:
            return False
    return all((Path(folder) / rel).is_file() for rel in m.get("files", {}))


def verify_split(folder: str | Path) -> list[str]:
    """Re-hash every file listed in the manifest; return the problems (empty when all match)."""
    folder = Path(folder)
    m = read_manifest(folder)
    if m is None:
        return [f"{folder}: no readable {MANIFEST}"]
    problems = []
    if m.get("generator_version") != params.GENERATOR_VERSION:
        problems.append(f"generator version {m.get('generator_version')} != {params.GENERATOR_VERSION}")
    for rel, digest in m.get("files", {}).items():
        p = folder / rel
        if not p.is_file():
            problems.append(f"{rel}: missing")
        elif hashlib.sha256(p.read_bytes()).hexdigest() != digest:
            problems.append(f"{rel}: sha256 mismatch")
    return problems


def generate_split(
    out_dir: str | Path,
    split: str = "test",
    n: int | None = None,
    seed: int = params.DEFAULT_SEED,
    size: int = params.DEFAULT_SIZE,
    workers: int = 2,
    *,
    cached: bool = False,
) -> Path:
    """Render ``n`` images of ``split`` into ``out_dir`` (replacing a previous synth split there) and return it.

    ``out_dir`` must be absent, empty or an earlier synth split (it has a manifest);
    anything else is refused rather than overwritten. ``cached``: ``out_dir`` is the cache (the progress
    line says so: generated once, reused by later runs).
    """
    if split not in params.SPLITS:
        raise DatasetError(f"synth has no split {split!r} (splits: {', '.join(params.SPLITS)})")
    n = params.DEFAULT_N[split] if n is None else int(n)
    seed, size = int(seed), int(size)
    if n < 1:
        raise DatasetError(f"synth: n must be at least 1, got {n}")
    if size < 32:
        raise DatasetError(f"synth: size must be at least 32 pixels, got {size}")
    out = Path(out_dir).expanduser().absolute()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and read_manifest(out) is None)):
        raise DatasetError(f"{out}: exists and is not a synth split (no {MANIFEST}); choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(out.parent, prefix=f".{out.name}.tmp-")
    try:
        for sub in SUBDIRS:
            (tmp / sub).mkdir()
        jobs = [(str(tmp), split, seed, i, size) for i in range(n)]
        results = []
        # Seconds for the test split, minutes for train: say what is being made and where it is kept.
        what = f"generating synth split {split!r} ({plural(n, 'image')}, {size} px) into {out}"
        if cached:
            what += " (first use; later runs reuse it)"
        with progress.phase(what, n) as advance:
            if workers > 1 and n > 1:
                with _pool(min(workers, n)) as ex:
                    for result in ex.map(_render_one, jobs, chunksize=max(1, min(8, n // (4 * workers)))):
                        results.append(result)
                        advance()
            else:
                for job in jobs:
                    results.append(_render_one(job))
                    advance()
        files: dict[str, str] = {}
        for _, hashes, _ in results:
            files.update(hashes)
        manifest = {
            "generator": "dbdbench.datasets.synth",
            "generator_version": params.GENERATOR_VERSION,
            "split": split,
            "n": n,
            "seed": seed,
            "size": size,
            "focus_coc_px": params.FOCUS_COC_PX,
            "gt_polarity": "focus",
            "samples": [info for _, _, info in results],
            "files": dict(sorted(files.items())),
        }
        atomic_write_json(tmp / MANIFEST, manifest)
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename the finished ``tmp`` to ``out``; an old split there is moved aside first, then deleted."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}-{os.urandom(4).hex()}"
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def ensure_split(
    split: str = "test",
    n: int | None = None,
    seed: int = params.DEFAULT_SEED,
    size: int = params.DEFAULT_SIZE,
    root: str | Path | None = None,
    workers: int = 2,
) -> Path:
    """Return the cached split, generating it first when absent or made by another generator version."""
    n = params.DEFAULT_N.get(split, 200) if n is None else int(n)
    folder = split_dir(cache_root(root), split, n, int(seed), int(size))
    if is_current(folder, split, n, int(seed), int(size)):
        return folder
    with _lock(folder.parent / f".{folder.name}.lock"):
        if is_current(folder, split, n, int(seed), int(size)):  # another process made it meanwhile
            return folder
        return generate_split(folder, split=split, n=n, seed=seed, size=size, workers=workers, cached=True)


def stream(
    split: str = "train",
    seed: int = params.DEFAULT_SEED,
    size: int = params.DEFAULT_SIZE,
    start: int = 0,
    stop: int | None = None,
    workers: int = 0,
    prefetch: int = 8,
) -> Iterator[SynthScene]:
    """Yield scenes ``start, start+1, ...`` of ``split`` (unlimited unless ``stop``), in order.

    The same (split, seed, index) always gives the same scene, so a training run
    can resume at ``start``. With ``workers > 0`` images are rendered ahead in a
    process pool (at most ``prefetch`` in flight).
    """
    indices = itertools.count(start) if stop is None else iter(range(start, stop))
    if workers <= 0:
        for i in indices:
            yield render_scene(seed, i, size, kind=split)
        return
    with _pool(workers) as ex:
        pending: deque = deque()
        try:
            for i in indices:
                pending.append(ex.submit(render_scene, seed, i, size, split))
                if len(pending) >= max(prefetch, workers):
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # the consumer stopped early: drop what has not started
            for fut in pending:
                fut.cancel()
