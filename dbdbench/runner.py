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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datasets.base import Sample
from .errors import DbdbenchError, InputError, MethodError
from .io import read_rgb, write_map_png
from .methods import Method, check_prediction
from .plugins import one_line
from .prepare import PreparedMethod
from .wording import plural


@dataclass
class RunOutcome:
    maps_dir: Path
    done: list[Sample] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    computed: int = 0
    reused: int = 0
    times: dict[str, float] = field(default_factory=dict)
    workers: int = 1  # processes that predicted: 1 for a method that is not process_parallel, whatever was asked


#: What the per-image times exclude, recorded with them.
WARM_UP_NOTE = (
    "one predict() on a 64x64 random image before the first timed image (lazy imports, weight loading, "
    "allocations) is excluded"
)


def dataset_dir_name(dataset) -> str:
    """Run folder of a dataset: its name for the default copy, else name@hash of where it lies and its options,
    so two roots, two folder datasets or two synth seeds never share a folder."""
    from .hashing import short_hash

    described = {k: v for k, v in dataset.describe().items() if k != "split"}
    if not dataset.root_given and not dataset.options:
        return dataset.name
    return f"{dataset.name}@{short_hash(json.dumps(described, sort_keys=True, default=str))}"


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
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # the umask decides, as for any file
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class _Predictor:
    """Holds one method instance; predicts, validates and caches a batch of images at a time."""

    def __init__(self, method: Method, record: Callable[[str, str], None]):
        self.method = method
        self.record = record  # (stem, image sha256): called as soon as a map is in place
        self.method_id = method.id
        self.warmed_up = False

    def warm_up(self) -> None:
        """Pay for lazy imports, weight loading and allocations on a tiny input, outside the timing.

        Best effort: a method that cannot handle a 64x64 image fails on the real image, where it is reported.
        """
        self.warmed_up = True
        tiny = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
        try:
            self.method.predict(tiny)
        except (MemoryError, KeyboardInterrupt):
            raise
        except (Exception, SystemExit):
            pass

    def __call__(self, batch: list[tuple[Sample, Path, str]]) -> float:
        """Predict every (sample, map path, image sha256) of ``batch`` (one ``predict_batch`` call when more than
        one), write and record each map; returns seconds per image."""
        images = []
        for sample, _, _ in batch:
            if sample.image is None:
                raise InputError(sample.gt, "ground truth has no matching image file")
            images.append(read_rgb(sample.image))
        if not self.warmed_up:
            self.warm_up()
        start = time.perf_counter()
        preds = self._predict(batch[0][0], images)
        seconds = (time.perf_counter() - start) / len(batch)
        if not isinstance(preds, (list, tuple)) or len(preds) != len(batch):
            raise MethodError(self.method_id, batch[0][0].stem, "predict_batch returned the wrong number of maps")
        for (sample, map_path, digest), image, pred in zip(batch, images, preds):
            write_map_png(map_path, check_prediction(self.method_id, sample.stem, image, pred))
            self.record(sample.stem, digest)
        return seconds

    def _predict(self, first: Sample, images: list):
        try:
            if len(images) == 1:
                return [self.method.predict(images[0])]
            return self.method.predict_batch(images)
        except (MemoryError, KeyboardInterrupt):
            raise
        except DbdbenchError:
            raise
        except (Exception, SystemExit) as exc:
            raise MethodError(self.method_id, first.stem, f"raised {one_line(exc)}") from None


# Worker-process state for --workers > 1 (one method instance per process).
_WORKER: _Predictor | None = None


def _init_worker(prepared: PreparedMethod, index: Path, key: str) -> None:
    global _WORKER
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and shuts the pool down
    # If the parent is SIGKILLed it cannot shut the pool down, and workers blocked on the task queue would live
    # on forever (holding memory, a GPU, the caller's pipes): exit as soon as the parent is gone.
    import threading

    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    from .mapcache import append_entry

    _WORKER = _Predictor(prepared.build(), lambda stem, digest: append_entry(index, stem, digest, key))


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)


def _work(sample: Sample, map_path: Path, digest: str) -> tuple[float | None, str | None]:
    """(seconds, None) on success, (None, one-line error) on failure: errors cross the process boundary as text."""
    worker = _WORKER
    assert worker is not None, "_work runs only in pool processes set up by _init_worker"
    try:
        return worker([(sample, map_path, digest)]), None
    except DbdbenchError as exc:
        return None, str(exc)
    except Exception as exc:
        return None, f"method {worker.method_id!r} on image {sample.stem!r}: {one_line(exc)}"


def run_predictions(
    prepared: PreparedMethod,
    method: Method,
    samples: list[Sample],
    run_dir: Path,
    *,
    cache_key: str,
    force: bool = False,
    skip_bad: bool = False,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> RunOutcome:
    """Predict every sample whose map is not reusable; ``method`` is the instance ``prepared`` built (its
    provenance is in ``cache_key``). With ``workers`` > 1, each worker process builds its own from ``prepared``."""
    from .hashing import try_digest
    from .mapcache import MapCache

    cache = MapCache(run_dir, cache_key)
    times_path = run_dir / "times.jsonl"
    outcome = RunOutcome(maps_dir=cache.maps_dir)
    cached_times = load_times(times_path)

    todo: list[tuple[Sample, str]] = []
    for sample in samples:
        digest = try_digest(sample.image)  # unreadable: predicted anyway, where reading it gives the real error
        if len(digest) == 64 and not force and cache.reusable(sample.stem, digest):
            outcome.done.append(sample)
            outcome.reused += 1
            if sample.stem in cached_times:
                outcome.times[sample.stem] = cached_times[sample.stem]
            if on_progress:
                on_progress(1)
        else:
            todo.append((sample, digest))

    def finish(sample: Sample, digest: str, seconds: float | None, error: str | None) -> None:
        if error is None:  # the predictor has recorded the map in the cache index already
            assert seconds is not None
            outcome.done.append(sample)
            outcome.computed += 1
            outcome.times[sample.stem] = seconds
            _append_time(times_path, sample.stem, seconds)
        elif skip_bad:
            outcome.skipped.append({"stem": sample.stem, "reason": error})
        else:
            raise DbdbenchError(
                f"{error} ({plural(outcome.computed + outcome.reused, 'map')} kept in {cache.maps_dir}; "
                "fix the cause and re-run to resume, or add --skip-bad)"
            )
        if on_progress:
            on_progress(1)

    if not type(method).process_parallel:
        workers = 1  # one process, batched; see Method.process_parallel
    outcome.workers = workers
    if todo and workers <= 1:
        predictor = _Predictor(method, cache.record)
        batch_size = max(1, int(getattr(method, "batch_size", 1) or 1))
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            try:
                seconds, error = predictor([(s, cache.map_path(s.stem), d) for s, d in chunk]), None
            except DbdbenchError as exc:
                if len(chunk) > 1:  # find the image that failed: predict the chunk one by one
                    for sample, digest in chunk:
                        try:
                            finish(sample, digest, predictor([(sample, cache.map_path(sample.stem), digest)]), None)
                        except DbdbenchError as one:
                            finish(sample, digest, None, str(one))
                    continue
                seconds, error = None, str(exc)
            for sample, digest in chunk:
                finish(sample, digest, seconds, error)
    elif todo:
        with ProcessPoolExecutor(
            max_workers=workers,
            initializer=_init_worker,
            initargs=(prepared, cache.index, cache.key),
        ) as pool:
            futures = [pool.submit(_work, s, cache.map_path(s.stem), d) for s, d in todo]
            try:
                for (sample, digest), fut in zip(todo, futures):
                    finish(sample, digest, *fut.result())
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    order = {s.stem: i for i, s in enumerate(samples)}
    outcome.done.sort(key=lambda s: order[s.stem])
    return outcome
