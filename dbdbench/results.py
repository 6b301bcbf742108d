"""The result schema: what a scored run records, so any number can be traced and re-run.

``result.json`` holds the protocol, dataset, method, metrics, curves, timing
and the full provenance (versions, machine, git revision, command line);
``per_image.csv`` holds one row per image. Both are written atomically.

In code a result is a :class:`RunResult`, made only by :func:`build_result` (from everything ``score`` and
``run`` know) and read back by :meth:`RunResult.from_json`; ``to_json`` gives the ``result.json`` object,
key for key and in the same order as the files already written.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from dataclasses import MISSING, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import numpy as np

from . import __version__
from .blas import description as blas_description
from .io import atomic_write_json, atomic_write_text
from .metric_table import CORE_METRICS

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from .metrics import Scores
    from .metrics.coc_bands import CocBand
    from .protocols import Protocol
    from .stats import PerImageData

SCHEMA_VERSION = 1


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_revision() -> str | None:
    """The dbdbench checkout's revision (with '-dirty' if modified), when it runs from one.

    Changes under ``leaderboards/`` do not count: they are outputs (committed results and tables), and a
    command that writes one must not mark the next command's results as made from modified code.
    """
    here = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(here),
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)leaderboards",
            ],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _thread_count() -> int | None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def command_line() -> str | None:
    """The command as a user would type it again: ``dbdbench`` plus the arguments, shell-quoted."""
    import shlex

    if not sys.argv:
        return None
    program = Path(sys.argv[0]).name
    head = "dbdbench" if program in ("dbdbench", "cli.py", "__main__.py") else shlex.quote(sys.argv[0])
    return " ".join([head, *map(shlex.quote, sys.argv[1:])])


def environment(device: str | None = None) -> dict[str, Any]:
    """The current environment as recorded in results and ``bench`` timing records."""
    return Environment.current(device).to_json()


# ------------------------------------------------------------------ the result object
#
# ``RunResult`` is what ``score`` and ``run`` produce and what every reader (leaderboard, plots, report) loads.
# ``to_json`` writes exactly the keys, order and values ``result.json`` has always had (docs/results.md);
# ``from_json`` reads any such file back. The records that plugins and adapters fill (protocol, dataset and
# method records, CoC bands) stay plain mappings: their keys are open-ended.

#: How many stems ``missing_maps`` / ``extra_maps`` list (their ``count`` is the full number).
LISTED_STEMS = 50
#: What the per-image timing of a ``run`` measures (recorded with it).
TIMING_NOTE = "predict() call only, per image, warm-up call excluded; decoding and PNG writing not included"

_Part = TypeVar("_Part", bound="_JsonPart")


class ResultFormatError(ValueError):
    """A JSON object that is not a complete dbdbench result: what :meth:`RunResult.from_json` refuses."""


class _JsonPart:
    """What the typed parts of a result (dataclasses) share: the JSON object is the fields, in field order.

    Field order is key order, so a part's ``to_json`` writes what the files have always had; the fields a subclass
    names as ``optional`` are left out when None (written only when known). ``from_json`` takes the known keys
    only, and refuses an object without a field that has no default, naming the part by its ``where`` (its key in a
    result): ``class Timing(_JsonPart, where="timing", optional=("warm_up", "batch_size"))``.
    """

    #: Fields left out of the JSON object when None.
    OPTIONAL: ClassVar[tuple[str, ...]] = ()
    #: The part's key in a result, as a refusal names it.
    WHERE: ClassVar[str] = ""

    def __init_subclass__(cls, *, where: str = "", optional: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.WHERE, cls.OPTIONAL = where, optional

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(cast("DataclassInstance", self))
            if not (f.name in self.OPTIONAL and getattr(self, f.name) is None)
        }

    @classmethod
    def from_json(cls: type[_Part], obj: Any, where: str | None = None) -> _Part:
        where = where or cls.WHERE
        if not isinstance(obj, dict):
            raise ResultFormatError(f"{where}: expected an object, got {type(obj).__name__}")
        given: dict[str, Any] = {}
        for f in fields(cast("type[DataclassInstance]", cls)):
            if f.name in obj:
                given[f.name] = obj[f.name]
            elif f.default is MISSING and f.default_factory is MISSING:
                raise ResultFormatError(f"{where}: no {f.name!r}")
        return cls(**given)


@dataclass
class Environment(_JsonPart, where="environment", optional=("platform", "torch_threads", "blas")):
    """Where a result was produced (``environment``). Older results may lack a key: it reads as None."""

    dbdbench: str | None = None
    git_revision: str | None = None  # the checkout's short revision, '-dirty' when modified; None outside git
    python: str | None = None
    numpy: str | None = None
    #: numpy's BLAS and the kernels it runs (``openblas 0.3.30 Haswell``): float32 products, and so the maps of
    #: methods that use them, differ in their last bits between kernels (dbdbench/blas.py pins them)
    blas: str | None = None
    torch: str | None = None
    platform: str | None = None  # left out of portable copies (and then not written)
    cpu: str | None = None
    cpu_count: int | None = None
    threads: int | None = None
    device: str | None = None
    gpu: str | None = None
    torch_threads: int | None = None  # only when a learned method imported torch (not written otherwise)

    @classmethod
    def current(cls, device: str | None = None) -> Environment:
        env = cls(
            dbdbench=__version__,
            git_revision=_git_revision(),
            python=platform.python_version(),
            numpy=np.__version__,
            blas=blas_description(),
            torch=_package_version("torch"),
            platform=platform.platform(),
            cpu=_cpu_name(),
            cpu_count=os.cpu_count(),
            threads=_thread_count(),
            device=device,
        )
        if "torch" in sys.modules:  # only ask torch when a learned method already imported it
            torch = sys.modules["torch"]
            env.torch_threads = torch.get_num_threads()
            if device and device.startswith("cuda") and torch.cuda.is_available():
                env.gpu = torch.cuda.get_device_name(0)
        return env


@dataclass
class Timing(_JsonPart, where="timing", optional=("warm_up", "batch_size")):
    """Per-image ``predict()`` time of a ``run`` (``timing``); ``score`` results have none."""

    images_timed: int
    mean_s: float
    median_s: float
    p90_s: float
    total_s: float
    images_per_s: float | None
    note: str = TIMING_NOTE
    warm_up: str | None = None  # how the warm-up call was handled (written when known)
    batch_size: int | None = None  # images per predict call (written when known)

    @classmethod
    def of(cls, times: dict[str, float], *, warm_up: str | None = None, batch_size: int | None = None) -> Timing | None:
        """The summary of per-image seconds; None when nothing was timed (every map came from the cache)."""
        if not times:
            return None
        values = np.array(list(times.values()), dtype=np.float64)
        return cls(
            images_timed=int(values.size),
            mean_s=float(values.mean()),
            median_s=float(np.median(values)),
            p90_s=float(np.percentile(values, 90)),
            total_s=float(values.sum()),
            images_per_s=float(values.size / values.sum()) if values.sum() > 0 else None,
            warm_up=warm_up,
            batch_size=batch_size,
        )


@dataclass
class RunInfo(_JsonPart, where="run", optional=("maps_computed", "maps_reused")):
    """How a ``run`` ran (``run``): the device and workers that ran, and what the map cache did."""

    device: str
    workers: int
    maps_computed: int | None = None  # left out of portable copies (one run's cache state)
    maps_reused: int | None = None


@dataclass
class StemList(_JsonPart):
    """A count of images and the first :data:`LISTED_STEMS` of their stems (``missing_maps``, ``extra_maps``)."""

    count: int
    stems: list[str]

    @classmethod
    def of(cls, stems: list[str]) -> StemList:
        return cls(len(stems), stems[:LISTED_STEMS])


@dataclass
class RunResult:
    """One scored result (``result*.json``): what was scored, how, with which numbers, and where it was made.

    ``protocol``, ``dataset`` and ``method`` are the records the protocol, the adapter (``describe()``) and the
    method (``describe()`` plus options, plugin and provenance) give: open-ended mappings. ``portable`` marks a
    committed copy (``leaderboards/results``, :func:`dbdbench.leaderboard.store.portable_result`), which is written
    without the run's own ``timing`` and ``created``.
    """

    protocol: dict[str, Any]
    dataset: dict[str, Any]
    method: dict[str, Any]
    n_images: int
    metrics: dict[str, float]
    curves: dict[str, list[float]] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    environment: Environment = field(default_factory=Environment)
    command: str | None = None
    coc_bands: list[CocBand] | None = None  # synth only (per-pixel CoC): scores by blur strength
    timing: Timing | None = None
    missing_maps: StemList | None = None
    extra_maps: StemList | None = None  # score only: maps in the folder that match no listed image
    created: str | None = None
    run: RunInfo | None = None  # run only
    #: ``--ci``: bootstrap intervals of every metric (level, method, resamples, seed, metrics: name -> [lo, hi]).
    ci: dict[str, Any] | None = None
    #: The per-image data file beside the result (``per_image.npz``), when one was written.
    per_image_data: str | None = None
    #: Advisory findings about the inputs (:mod:`dbdbench.polarity`): each a record with ``check`` and a one-line
    #: ``message``; written only when there is one, and never a reason to change a number.
    warnings: list[dict[str, Any]] = field(default_factory=list)
    portable: bool = False
    schema: int = SCHEMA_VERSION
    #: The per-image data itself, in memory (not part of ``result.json``): set by scoring, or read from the file.
    per_image: PerImageData | None = field(default=None, repr=False, compare=False)

    @property
    def dataset_name(self) -> str:
        return str(self.dataset["name"])

    @property
    def protocol_name(self) -> str:
        return str(self.protocol["name"])

    @property
    def method_id(self) -> str:
        return str(self.method.get("id"))

    def to_json(self) -> dict[str, Any]:
        """The ``result.json`` object (the records are shared, not copied)."""
        out: dict[str, Any] = {
            "schema": self.schema,
            "protocol": self.protocol,
            "dataset": self.dataset,
            "method": self.method,
            "n_images": self.n_images,
            "metrics": self.metrics,
        }
        if self.ci is not None:
            out["ci"] = self.ci
        out["curves"] = self.curves
        if self.coc_bands is not None:
            out["coc_bands"] = self.coc_bands
        if self.per_image_data is not None:
            out["per_image_data"] = self.per_image_data
        out["skipped"] = self.skipped
        if self.warnings:
            out["warnings"] = self.warnings
        if not self.portable:
            out["timing"] = self.timing.to_json() if self.timing is not None else None
        for key, stems in (("missing_maps", self.missing_maps), ("extra_maps", self.extra_maps)):
            if stems is not None:
                out[key] = stems.to_json()
        out["environment"] = self.environment.to_json()
        out["command"] = self.command
        if self.created is not None:
            out["created"] = self.created
        if self.run is not None:
            out["run"] = self.run.to_json()
        return out

    @classmethod
    def from_json(cls, obj: Any) -> RunResult:
        """A result from its JSON object. Raises :class:`ResultFormatError` unless it has the parts every result
        has carried since the first schema: protocol and dataset records with a name, a method record, the image
        count, the core metrics, and the environment."""
        if not isinstance(obj, dict):
            raise ResultFormatError(f"expected an object, got {type(obj).__name__}")
        for key in ("protocol", "dataset", "method", "metrics", "environment"):
            if not isinstance(obj.get(key), dict):
                raise ResultFormatError(f"{key!r} is missing or not an object")
        for key in ("protocol", "dataset"):
            if "name" not in obj[key]:
                raise ResultFormatError(f"the {key} record has no name")
        if not isinstance(obj.get("n_images"), int):
            raise ResultFormatError("'n_images' is missing or not a number")
        metrics = obj["metrics"]
        absent = [k for k in CORE_METRICS if not isinstance(metrics.get(k), (int, float))]
        if absent:
            raise ResultFormatError(f"metrics {', '.join(absent)} missing")
        timing, run = obj.get("timing"), obj.get("run")
        missing, extra = obj.get("missing_maps"), obj.get("extra_maps")
        return cls(
            schema=obj.get("schema", SCHEMA_VERSION),
            protocol=obj["protocol"],
            dataset=obj["dataset"],
            method=obj["method"],
            n_images=obj["n_images"],
            metrics=metrics,
            curves=obj.get("curves") or {},
            coc_bands=obj.get("coc_bands"),
            skipped=obj.get("skipped") or [],
            timing=Timing.from_json(timing) if timing is not None else None,
            missing_maps=StemList.from_json(missing, "missing_maps") if missing is not None else None,
            extra_maps=StemList.from_json(extra, "extra_maps") if extra is not None else None,
            environment=Environment.from_json(obj["environment"]),
            command=obj.get("command"),
            created=obj.get("created"),
            run=RunInfo.from_json(run) if run is not None else None,
            ci=obj["ci"] if isinstance(obj.get("ci"), dict) else None,
            per_image_data=obj["per_image_data"] if isinstance(obj.get("per_image_data"), str) else None,
            warnings=obj["warnings"] if isinstance(obj.get("warnings"), list) else [],
            portable="timing" not in obj,
        )


@dataclass(kw_only=True)
class TimingRecord(_JsonPart, where="timing record"):
    """One latency measurement by ``dbdbench bench`` (a timing record, docs/results.md, "Timing records").

    Written by :func:`dbdbench.latency.measure_latency`, saved under ``leaderboards/results/timing/<device>/`` and
    shown by ``dbdbench leaderboard`` as timing tables per device. ``to_json`` gives the file's object key for key,
    in field order; :meth:`from_json` reads one back, older ones lacking the keys that have a default.
    """

    schema: int = SCHEMA_VERSION
    record: str = "timing"  # what tells a timing file from a result file
    row: str | None = None  # the leaderboard row: the method id plus its non-default options
    method: dict[str, Any]  # the method record, as in results (describe() plus options, plugin, provenance)
    input: dict[str, Any] | None = None  # height, width and what the image was
    device: str
    threads: int | None = None  # torch's threads when torch ran, else the process's
    torch: str | None = None  # torch's version when the method imported it
    cpu: str | None = None
    gpu: str | None = None
    repeats: int | None = None
    warmup: int | None = None
    median_ms: float  # end to end: the number a timing table shows, with p90_ms
    p90_ms: float
    end_to_end: dict[str, Any] | None = None  # median_ms, p90_ms, mean_ms, min_ms, max_ms and repeats
    model: dict[str, Any] | None = None  # the same for the network alone; None: no separable model
    random_weights: bool = False  # an untrained network: the numbers are for timing only
    environment: Environment
    command: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["environment"] = self.environment.to_json()
        return out

    @classmethod
    def from_json(cls, obj: Any, where: str | None = None) -> TimingRecord:
        """A timing record from its JSON object. Raises :class:`ResultFormatError` unless it says it is one and has
        the method record, the end-to-end median and p90, the device and the environment."""
        if not isinstance(obj, dict) or obj.get("record") != "timing":
            raise ResultFormatError('not a timing record (no "record": "timing")')
        if not isinstance(obj.get("method"), dict) or not isinstance(obj.get("device"), str):
            raise ResultFormatError("timing record: the method record or the device is missing")
        if not all(isinstance(obj.get(key), (int, float)) for key in ("median_ms", "p90_ms")):
            raise ResultFormatError("timing record: median_ms or p90_ms is missing or not a number")
        record = super().from_json(obj, where)
        record.environment = Environment.from_json(obj["environment"])
        return record


def build_result(
    *,
    protocol: Protocol,
    dataset: dict[str, Any],
    method: dict[str, Any],
    scores: Scores,
    skipped: list[dict[str, Any]],
    missing_maps: StemList,
    extra_maps: StemList | None = None,
    timing: Timing | None = None,
    run: RunInfo | None = None,
    device: str | None = None,
    warnings: list[dict[str, Any]] | None = None,
) -> RunResult:
    """The one place a result is made, from everything it records: ``score`` passes what it scored, ``run`` also
    its timing, its run record and the device that ran. The environment, command line and time are taken here."""
    return RunResult(
        protocol=protocol.as_dict(),
        dataset=dataset,
        method=method,
        n_images=scores["n_images"],
        metrics=scores["metrics"],
        curves=scores["curves"],
        coc_bands=scores.get("coc_bands"),
        skipped=skipped,
        timing=timing,
        missing_maps=missing_maps,
        extra_maps=extra_maps,
        environment=Environment.current(device),
        command=command_line(),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        run=run,
        warnings=list(warnings or []),
    )


def write_result(
    out_dir: Path,
    result: RunResult,
    per_image: list[dict],
    times: dict[str, float] | None = None,
    name: str = "result",
) -> tuple[Path, Path]:
    """Write ``<name>.json`` and its per-image table (``per_image<variant>.csv``) into ``out_dir``, and the
    per-image data that ``compare`` resamples (``per_image<variant>.npz``) when the result carries it."""
    import pandas as pd  # only needed here; keeps 'dbdbench score' start-up light

    from .stats import sidecar_name

    out_dir = Path(out_dir)
    frame = pd.DataFrame(per_image)
    if times and not frame.empty:
        frame["predict_s"] = frame["stem"].map(times)
    csv_path = out_dir / f"per_image{name[len('result') :]}.csv"
    json_path = out_dir / f"{name}.json"
    atomic_write_text(csv_path, frame.to_csv(index=False, float_format="%.6f"))
    if result.per_image is not None:
        result.per_image_data = sidecar_name(json_path)
        result.per_image.write(out_dir / result.per_image_data)
    atomic_write_json(json_path, result.to_json())
    return json_path, csv_path
