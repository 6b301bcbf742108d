"""Predict-and-cache: run a method over a dataset, writing each map as an 8-bit PNG as soon as it exists.

The cache *is* the checkpoint: an interrupted run (Ctrl-C, SIGKILL, a crash on
image 437) keeps every map it wrote, and the next run skips them. Maps are
written atomically, so a killed process or a second process on the same folder
never leaves a torn file. Per-image prediction times (the ``predict`` call
only, warm-up excluded) are appended to ``times.jsonl`` one line per image, so
timings survive interruptions too.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .datasets.base import Sample
from .errors import DbdbenchError, InputError, MethodError
from .io import atomic_write_json, read_rgb, write_map_png
from .methods import Method, check_prediction


@dataclass
class RunOutcome:
    maps_dir: Path
    done: list[Sample] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    computed: int = 0
    reused: int = 0
    times: dict[str, float] = field(default_factory=dict)


def method_dir_name(method_id: str, options: dict[str, Any]) -> str:
    """Cache folder of a method: its id, plus its non-default options so differently configured runs never mix."""
    if not options:
        return method_id
    parts = [f"{k}={options[k]}" for k in sorted(options)]
    return f"{method_id}@{','.join(parts)}".replace("/", "_")


def check_cache_identity(run_dir: Path, identity: dict[str, Any], force: bool) -> None:
    """Refuse to mix maps from another version of a method (or other weights) in one cache."""
    path = run_dir / "cache.json"
    if path.exists() and not force:
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = None
        if old is not None and old != identity:
            changed = sorted(k for k in set(old) | set(identity) if old.get(k) != identity.get(k))
            raise DbdbenchError(
                f"{run_dir}: cached maps were made by a different configuration ({', '.join(changed)} changed); "
                "re-run with --force to recompute them, or use another --out"
            )
    atomic_write_json(path, identity)


def load_times(path: Path) -> dict[str, float]:
    """Read times.jsonl, ignoring a torn last line from a killed process; the latest entry per stem wins."""
    times: dict[str, float] = {}
    if not path.exists():
        return times
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            times[str(entry["stem"])] = float(entry["seconds"])
        except (ValueError, KeyError, TypeError):
            continue
    return times


def _append_time(path: Path, stem: str, seconds: float) -> None:
    # One short write() on an O_APPEND descriptor: lines from concurrent processes never interleave.
    line = (json.dumps({"stem": stem, "seconds": round(seconds, 6)}) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class _Predictor:
    """Holds one method instance; predicts, validates and caches one image at a time."""

    def __init__(self, method_cls: type[Method], options: dict[str, Any], device: str):
        self.method_id = method_cls.id
        try:
            self.method = method_cls(device=device, **options)
        except DbdbenchError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's constructor failing is the plugin's problem
            raise DbdbenchError(f"method {self.method_id!r} failed to initialise: {_one_line(exc)}") from None
        self.warmed_up = False

    def __call__(self, sample: Sample, map_path: Path) -> float:
        if sample.image is None:
            raise InputError(sample.gt, "ground truth has no matching image file")
        image = read_rgb(sample.image)
        if not self.warmed_up:  # first call pays for lazy imports, JIT, allocations: keep it out of the timing
            self._predict(sample, image)
            self.warmed_up = True
        start = time.perf_counter()
        pred = self._predict(sample, image)
        seconds = time.perf_counter() - start
        pred = check_prediction(self.method_id, sample.stem, image, pred)
        write_map_png(map_path, pred)
        return seconds

    def _predict(self, sample: Sample, image):
        try:
            return self.method.predict(image)
        except (MemoryError, KeyboardInterrupt):
            raise
        except DbdbenchError:
            raise
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a plugin calling sys.exit() is a method failure too
            raise MethodError(self.method_id, sample.stem, f"raised {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# Worker-process state for --workers > 1 (one method instance per process).
_WORKER: _Predictor | None = None


def _init_worker(method_cls, options, device):
    global _WORKER
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and shuts the pool down
    # If the parent is SIGKILLed it cannot shut the pool down, and workers blocked on the task queue would live
    # on forever (holding memory, a GPU, the caller's pipes): exit as soon as the parent is gone.
    import threading

    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _WORKER = _Predictor(method_cls, options, device)


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)


def _work(sample: Sample, map_path: Path) -> tuple[float | None, str | None]:
    """(seconds, None) on success, (None, one-line error) on failure: errors cross the process boundary as text."""
    try:
        return _WORKER(sample, map_path), None
    except DbdbenchError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001
        return None, f"method {_WORKER.method_id!r} on image {sample.stem!r}: {_one_line(exc)}"


def run_predictions(
    method_cls: type[Method],
    options: dict[str, Any],
    samples: list[Sample],
    run_dir: Path,
    *,
    device: str = "cpu",
    force: bool = False,
    skip_bad: bool = False,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> RunOutcome:
    maps_dir = run_dir / "maps"
    maps_dir.mkdir(parents=True, exist_ok=True)
    times_path = run_dir / "times.jsonl"
    outcome = RunOutcome(maps_dir=maps_dir)
    cached_times = load_times(times_path)

    todo: list[Sample] = []
    for sample in samples:
        map_path = maps_dir / f"{sample.stem}.png"
        if map_path.is_file() and map_path.stat().st_size > 0 and not force:
            outcome.done.append(sample)
            outcome.reused += 1
            if sample.stem in cached_times:
                outcome.times[sample.stem] = cached_times[sample.stem]
            if on_progress:
                on_progress(1)
        else:
            todo.append(sample)

    def finish(sample: Sample, seconds: float | None, error: str | None) -> None:
        if error is None:
            outcome.done.append(sample)
            outcome.computed += 1
            outcome.times[sample.stem] = seconds
            _append_time(times_path, sample.stem, seconds)
        elif skip_bad:
            outcome.skipped.append({"stem": sample.stem, "reason": error})
        else:
            raise DbdbenchError(f"{error} ({outcome.computed + outcome.reused} maps kept in {maps_dir}; "
                                "fix the cause and re-run to resume, or add --skip-bad)")
        if on_progress:
            on_progress(1)

    if todo and workers <= 1:
        predictor = _Predictor(method_cls, options, device)
        for sample in todo:
            try:
                seconds, error = predictor(sample, maps_dir / f"{sample.stem}.png"), None
            except DbdbenchError as exc:
                seconds, error = None, str(exc)
            finish(sample, seconds, error)
    elif todo:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(method_cls, options, device)) as pool:
            futures = [pool.submit(_work, s, maps_dir / f"{s.stem}.png") for s in todo]
            try:
                for sample, fut in zip(todo, futures):
                    finish(sample, *fut.result())
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    order = {s.stem: i for i, s in enumerate(samples)}
    outcome.done.sort(key=lambda s: order[s.stem])
    return outcome
