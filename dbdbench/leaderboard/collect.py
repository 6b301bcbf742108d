"""Find result files wherever ``run``, ``score`` and ``bench`` wrote them, and group them into tables.

Accuracy results (``result*.json`` under ``runs/``, ``<row>.json`` under ``leaderboards/results/``)
become one table per dataset, split, protocol and file list; timing records from ``dbdbench bench``
become one table per device and machine, kept apart from accuracy (as timm does), so a reader never
compares a GPU latency with a CPU one, or a latency with an accuracy, by accident.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DbdbenchError
from ..metric_table import METRICS, RANKING_METRIC
from ..protocols import PROTOCOLS
from ..results import ResultFormatError, RunResult, TimingRecord

#: Files that live beside results but are not results (the map cache's identity).
NOT_RESULTS = {"cache.json"}
#: Protocol fields that describe the preset rather than change the scores.
PROTOCOL_INFO = ("name", "description", "source", "expects")


class NoResultsError(DbdbenchError):
    """The folders hold no result at all, or hold unreadable ones."""


@dataclass(frozen=True)
class Problem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


# ------------------------------------------------------------------ one result = one row


def row_id(result: RunResult, path: str | Path | None = None) -> str:
    """The row a result fills: the method id plus its non-default options (``lbp@refine=true``).

    Results saved with ``--save-to-leaderboard`` record it (``method.row``); a ``run`` result in a runs
    folder is named by its cache folder (``runs/lbp@refine=true/<dataset>/result.json``); anything else
    (``score`` results) by the method id, which ``score --name`` sets.
    """
    method = result.method
    if method.get("row"):
        return str(method["row"])
    mid = str(method.get("id"))
    if path is not None and "plugin" in method:
        folder = Path(path).parent.parent.name
        if folder == mid or folder.startswith(mid + "@"):
            return folder
    return mid


def is_random_weights(method_or_record: dict[str, Any]) -> bool:
    prov = method_or_record.get("provenance") or {}
    return isinstance(prov, dict) and prov.get("weights") == "random"


@dataclass
class Row:
    row: str
    result: RunResult
    path: Path

    @property
    def method(self) -> dict[str, Any]:
        return self.result.method

    @property
    def metrics(self) -> dict[str, float]:
        return self.result.metrics

    @property
    def kind(self) -> str:
        kind = self.method.get("kind") or "-"
        return f"{kind}, random weights" if is_random_weights(self.method) else kind

    @property
    def paper(self) -> str:
        return self.method.get("paper") or "-"

    @property
    def training_data(self) -> str:
        m = self.method
        prov = m["provenance"] if isinstance(m.get("provenance"), dict) else {}
        given = m.get("training_data") or prov.get("training_data") or prov.get("trained_on")
        if given:
            return given if isinstance(given, str) else ", ".join(map(str, given))
        if is_random_weights(m):
            return "none (untrained)"
        return "none" if m.get("kind") == "handcrafted" else "-"

    @property
    def scored_maps(self) -> bool:
        """True for rows scored from maps dbdbench did not produce (``dbdbench score``)."""
        return "plugin" not in self.method

    @property
    def n_skipped(self) -> int:
        return len(self.result.skipped)


# ------------------------------------------------------------------ tables


def _scalar_items(protocol: dict[str, Any]) -> list[tuple[str, Any]]:
    """The protocol's scoring options (every scalar field except those that describe the preset)."""
    return [
        (k, v)
        for k, v in protocol.items()
        if k not in PROTOCOL_INFO and (v is None or isinstance(v, (str, int, float, bool)))
    ]


def undefined_metrics(protocol: dict[str, Any]) -> dict[str, str]:
    """Metrics the protocol's source (a paper, a toolkit) does not define, each with a note.

    Read from the protocol record when it says so: ``extra_metrics`` (a list, or a mapping to a note),
    or ``source_metrics`` (what the source does define; the rest is undefined).
    Older results say nothing: then no metric is footnoted.
    """
    default_note = "not defined by the protocol's source; dbdbench computes it with the same options"
    for key in ("extra_metrics", "undefined_metrics"):
        value = protocol.get(key)
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items() if k in METRICS}
        if isinstance(value, (list, tuple)):
            return {str(k): default_note for k in value if k in METRICS}
    for key in ("source_metrics",):
        value = protocol.get(key)
        if isinstance(value, (list, tuple, dict)):
            return {k: default_note for k in METRICS if k not in value}
    return {}


@dataclass
class AccuracyTable:
    dataset: str
    split: str | None
    protocol: dict[str, Any]
    file_list_hash: str | None
    rows: list[Row] = field(default_factory=list)

    @property
    def record(self) -> dict[str, Any]:
        return self.rows[0].result.dataset

    @property
    def n_images(self) -> int:
        return int(self.rows[0].result.n_images)

    @property
    def n_expected(self) -> int | None:
        value = self.record.get("n_expected")
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def metrics(self) -> list[str]:
        """Headline metrics any row has, in :data:`METRICS` order (older results may lack newer metrics)."""
        return [k for k in METRICS if any(isinstance(r.metrics.get(k), (int, float)) for r in self.rows)]

    @property
    def undefined(self) -> dict[str, str]:
        return undefined_metrics(self.protocol)

    @property
    def has_coc(self) -> bool:
        return any(r.result.coc_bands for r in self.rows)

    @property
    def commands(self) -> list[str]:
        return sorted({str(r.result.command) for r in self.rows if r.result.command})

    @property
    def revisions(self) -> list[str]:
        return sorted({str(r.result.environment.git_revision) for r in self.rows})

    @property
    def versions(self) -> list[str]:
        return sorted({str(r.result.environment.dbdbench) for r in self.rows})


@dataclass
class TimingTable:
    device: str
    machine: str
    rows: list[tuple[str, TimingRecord, Path]] = field(default_factory=list)  # (row, record, path)

    @property
    def commands(self) -> list[str]:
        return sorted({str(rec.command) for _, rec, _ in self.rows if rec.command})

    @property
    def revisions(self) -> list[str]:
        return sorted({str(rec.environment.git_revision) for _, rec, _ in self.rows})


@dataclass
class Leaderboard:
    accuracy: list[AccuracyTable]
    timing: list[TimingTable]
    datasets: tuple[str, ...] = ()
    #: ``--ci``: show each value's interval and mark rows not significantly different from the best.
    ci: bool = False

    @property
    def n_results(self) -> int:
        return sum(len(t.rows) for t in self.accuracy)

    @property
    def dirty(self) -> list[str]:
        """Rows produced from a modified checkout (their git revision ends in -dirty)."""
        out = [
            f"{r.path} ({r.result.environment.git_revision})"
            for t in self.accuracy
            for r in t.rows
            if str(r.result.environment.git_revision).endswith("-dirty")
        ]
        out += [
            f"{p} ({rec.environment.git_revision})"
            for t in self.timing
            for _, rec, p in t.rows
            if str(rec.environment.git_revision).endswith("-dirty")
        ]
        return out


# ------------------------------------------------------------------ reading


def _json_files(path: Path) -> Iterable[Path]:
    if path.is_file():
        yield path
        return
    for p in sorted(path.rglob("*.json")):
        if p.name in NOT_RESULTS or p.name.startswith(".") or "maps" in p.relative_to(path).parts[:-1]:
            continue
        yield p


def read_records(
    dirs: Iterable[str | Path],
) -> tuple[list[tuple[Path, RunResult]], list[tuple[Path, TimingRecord]], list[Problem]]:
    """Every accuracy result (read by :meth:`RunResult.from_json`) and timing record under ``dirs`` (folders or
    single files), and the problems.

    A JSON file that does not parse is a problem (a torn write, a merge conflict); so is a ``result*.json``
    that parses but is not a dbdbench result. Other JSON files that are neither are ignored.
    """
    results: list[tuple[Path, RunResult]] = []
    timings: list[tuple[Path, TimingRecord]] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for d in dirs:
        d = Path(d)
        if not d.exists():
            problems.append(Problem(d, "no such file or folder"))
            continue
        for path in _json_files(d):
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                obj = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                problems.append(
                    Problem(path, f"unreadable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
                )
                continue
            try:
                results.append((path, RunResult.from_json(obj)))
                continue
            except ResultFormatError:
                pass
            try:
                timings.append((path, TimingRecord.from_json(obj)))
                continue
            except ResultFormatError:
                pass
            if path.name.startswith("result") or (
                isinstance(obj, dict) and ("metrics" in obj or obj.get("record") == "timing")
            ):
                problems.append(
                    Problem(
                        path,
                        "not a complete dbdbench result (missing protocol, dataset, method, metrics or environment)",
                    )
                )
    return results, timings, problems


def _protocol_key(protocol: dict[str, Any]) -> str:
    return json.dumps([protocol.get("name"), sorted(_scalar_items(protocol))], default=str)


def _protocol_order(name: str) -> tuple[int, str]:
    names = list(PROTOCOLS)
    base = str(name).split("+", 1)[0]
    return (names.index(base) if base in names else len(names), str(name))


def group_accuracy(
    results: list[tuple[Path, RunResult]], datasets: Iterable[str] = ()
) -> tuple[list[AccuracyTable], list[str]]:
    """One table per (dataset, split, protocol, file list); one row per row id (first file wins, with a warning)."""
    wanted = set(datasets)
    tables: dict[tuple, AccuracyTable] = {}
    warnings: list[str] = []
    for path, result in results:
        ds = result.dataset
        if wanted and ds.get("name") not in wanted:
            continue
        key = (ds["name"], ds.get("split"), _protocol_key(result.protocol), ds.get("file_list_hash"))
        table = tables.setdefault(
            key, AccuracyTable(ds["name"], ds.get("split"), result.protocol, ds.get("file_list_hash"))
        )
        rid = row_id(result, path)
        twin = next((r for r in table.rows if r.row == rid), None)
        if twin is not None:  # e.g. runs/ and its saved copy in leaderboards/results: say so only if they disagree
            if twin.metrics != result.metrics:
                warnings.append(
                    f"{path}: same row {rid!r} as {twin.path} in one table, other numbers; keeping the first"
                )
            continue
        table.rows.append(Row(rid, result, path))
    sign = -1 if METRICS[RANKING_METRIC].better == "higher" else 1
    for table in tables.values():
        table.rows.sort(key=lambda r: (sign * r.metrics[RANKING_METRIC], r.row))
    ordered = sorted(
        tables.values(),
        key=lambda t: (
            t.dataset,
            str(t.split),
            -t.n_images,
            str(t.file_list_hash),
            _protocol_order(str(t.protocol.get("name"))),
        ),
    )
    return ordered, warnings


def machine_of(record: TimingRecord) -> str:
    env = record.environment
    if record.device.startswith("cuda") and (record.gpu or env.gpu):
        return str(record.gpu or env.gpu)
    return str(record.cpu or env.cpu or "unknown CPU")


def group_timing(
    timings: list[tuple[Path, TimingRecord]], rows: set[str] | None = None
) -> tuple[list[TimingTable], list[str]]:
    """One table per (device, machine); rows sorted by end-to-end median. ``rows``: keep only these row ids."""
    tables: dict[tuple[str, str], TimingTable] = {}
    warnings: list[str] = []
    for path, record in timings:
        rid = str(record.row or record.method.get("id"))
        if rows is not None and rid not in rows:
            continue
        table = tables.setdefault((record.device, machine_of(record)), TimingTable(record.device, machine_of(record)))
        size = _input_size(record)
        twin = next((p for r, rec, p in table.rows if r == rid and _input_size(rec) == size), None)
        if twin is not None:
            warnings.append(f"{path}: same method {rid!r} and input size as {twin} on one machine; keeping the first")
            continue
        table.rows.append((rid, record, path))
    for table in tables.values():
        table.rows.sort(key=lambda item: (item[1].median_ms, item[0]))
    return sorted(tables.values(), key=lambda t: (t.device, t.machine)), warnings


def _input_size(record: TimingRecord) -> tuple[Any, Any]:
    size = record.input or {}
    return size.get("height"), size.get("width")


def collect(
    dirs: Iterable[str | Path], *, datasets: Iterable[str] = (), timing: bool = True
) -> tuple[Leaderboard, list[Problem], list[str]]:
    """Read and group everything under ``dirs``. Timing rows are kept for the methods the accuracy tables show
    (all of them when no accuracy table was asked for)."""
    datasets = tuple(datasets)
    results, timings, problems = read_records(dirs)
    accuracy, warnings = group_accuracy(results, datasets)
    timing_tables: list[TimingTable] = []
    if timing:
        shown = {r.row for t in accuracy for r in t.rows} if (accuracy or datasets) else None
        timing_tables, more = group_timing(timings, shown)
        warnings += more
    return Leaderboard(accuracy, timing_tables, datasets), problems, warnings
