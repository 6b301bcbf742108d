"""Two results on the same images: a paired bootstrap of each metric's difference (``dbdbench compare``).

Both results are resampled with the *same* resampled images (the same counts, from the same n, resample
count and seed), so what the images have in common (some are hard for every method) cancels in the
difference, and the interval of a - b is far narrower than the two separate intervals suggest.
This needs each result's per-image data; results on different file lists or under different protocols
are refused, since their differences would not be about the methods.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DbdbenchError
from ..results import ResultFormatError, RunResult
from .bootstrap import METHOD, BootstrapSettings, distributions, interval, p_value, point_values
from .per_image import PerImageData, PerImageDataError

#: Protocol record fields that describe a preset rather than change the numbers.
_PROTOCOL_INFO = ("name", "description", "source", "source_metrics", "extra_metrics", "expects")
#: How far the per-image data may re-aggregate from the result's recorded numbers (float summation order).
TOLERANCE = 1e-9
P_VALUE = "two-sided bootstrap p-value of a - b = 0: min(1, 2 min(#(d <= 0) + 1, #(d >= 0) + 1) / (R + 1)) over the R resampled differences d"


class CompareError(DbdbenchError):
    """Two results that cannot be compared, or one that cannot be read."""


@dataclass
class Loaded:
    """A result file, its result, and its per-image data when it has some."""

    path: Path
    result: RunResult
    data: PerImageData | None = None
    problem: str = ""  # why there is no per-image data

    @property
    def label(self) -> str:
        return str(self.result.method.get("row") or self.result.method.get("id"))


def result_path(path: str | Path, which: str = "") -> Path:
    """A result file, or the one ``result*.json`` of a run folder."""
    path = Path(path)
    prefix = f"{which}: " if which else ""
    if path.is_dir():
        found = sorted(p for p in path.glob("result*.json") if p.is_file())
        if not found:
            raise CompareError(f"{prefix}{path}: no result*.json in this folder")
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise CompareError(f"{prefix}{path} holds {len(found)} results ({names}); name one of them")
        return found[0]
    if not path.is_file():
        raise CompareError(f"{prefix}{path}: no such file or folder")
    return path


def load(path: str | Path, which: str = "") -> Loaded:
    """Read a result file (or a run folder's) and, when it names one, its per-image data."""
    file = result_path(path, which)
    prefix = f"{which}: " if which else ""
    try:
        result = RunResult.from_json(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        kind = "not a dbdbench result" if isinstance(exc, ResultFormatError) else "unreadable"
        raise CompareError(f"{prefix}{file}: {kind} ({reason})") from None
    loaded = Loaded(file, result)
    if result.per_image_data is None:
        loaded.problem = (
            f"{prefix}{file}: no per-image data (the result was written before dbdbench kept it, or by "
            "'score' without --out); re-run the command that made it"
        )
        return loaded
    try:
        loaded.data = PerImageData.read(file.parent / result.per_image_data)
    except PerImageDataError as exc:
        loaded.problem = f"{prefix}{exc}"
    return loaded


def protocol_options(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _PROTOCOL_INFO}


def check_comparable(a: Loaded, b: Loaded) -> None:
    """Refuse, in one line naming the difference, two results on other file lists or under other protocols."""
    pa, pb = a.result.protocol, b.result.protocol
    oa, ob = protocol_options(pa), protocol_options(pb)
    if oa != ob:
        diffs = "; ".join(
            f"{k} {oa.get(k)!r} vs {ob.get(k)!r}" for k in sorted(set(oa) | set(ob)) if oa.get(k) != ob.get(k)
        )
        raise CompareError(
            f"A and B were scored under different protocols: A {pa.get('name')}, B {pb.get('name')} ({diffs}); "
            "compare results of one protocol"
        )
    da, db = a.result.dataset, b.result.dataset

    def where(d: dict[str, Any], n: int) -> str:
        split = f" split {d.get('split')}" if d.get("split") else ""
        return f"{d.get('name')}{split}, {n} images (file list {d.get('file_list_hash')})"

    if da.get("file_list_hash") != db.get("file_list_hash") or a.result.n_images != b.result.n_images:
        detail = ""
        if a.data is not None and b.data is not None:
            only_a = sorted(set(a.data.stems) - set(b.data.stems))
            only_b = sorted(set(b.data.stems) - set(a.data.stems))
            if only_a or only_b:
                detail = f"; {len(only_a)} images only in A, {len(only_b)} only in B (first: {(only_a or only_b)[0]})"
            else:
                detail = "; the same image names with other file contents"
        raise CompareError(
            f"A and B are on different file lists: A {where(da, a.result.n_images)}, "
            f"B {where(db, b.result.n_images)}{detail}"
        )
    if a.data is not None and b.data is not None and a.data.stems != b.data.stems:
        raise CompareError("A and B list the same file-list hash but other images in their per-image data")


def check_data(loaded: Loaded, specs: dict, metrics: list[str]) -> PerImageData:
    """The per-image data, checked to reproduce the result's own numbers (a stale or foreign file would not)."""
    if loaded.data is None:
        raise CompareError(loaded.problem)
    data = loaded.data
    if data.n != loaded.result.n_images:
        raise CompareError(f"{loaded.path}: per-image data of {data.n} images for a result of {loaded.result.n_images}")
    again = point_values({k: specs[k] for k in metrics}, data)
    for k in metrics:
        recorded = float(loaded.result.metrics[k])
        if abs(again[k] - recorded) > TOLERANCE:
            raise CompareError(
                f"{loaded.path}: its per-image data give {k} = {again[k]:.6f}, the result says {recorded:.6f} "
                "(per-image file from another run?); re-run the command that made it"
            )
    return data


_TERM = re.compile(r"([+-]?)\s*([A-Za-z_][A-Za-z0-9_]*)")


def parse_combination(text: str, metrics: list[str]) -> list[tuple[int, str]]:
    """``f_max-mae`` -> [(+1, f_max), (-1, mae)]: a sum of metrics with signs, e.g. a checkpoint-selection score."""
    compact = text.replace(" ", "")
    terms, pos = [], 0
    for m in _TERM.finditer(compact):
        if m.start() != pos or (pos > 0 and not m.group(1)):
            break
        terms.append((-1 if m.group(1) == "-" else 1, m.group(2)))
        pos = m.end()
    if not terms or pos != len(compact):
        raise CompareError(f"--combine {text!r}: expected metrics joined by + and -, e.g. f_max-mae")
    unknown = [name for _, name in terms if name not in metrics]
    if unknown:
        raise CompareError(f"--combine {text!r}: no metric {unknown[0]!r} in both results ({', '.join(metrics)})")
    return terms


@dataclass
class Comparison:
    a: Loaded
    b: Loaded
    settings: BootstrapSettings
    n_images: int
    #: name -> {"a", "b", "diff", "interval": [lo, hi], "p_value"}, metrics first, then combinations.
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    combined: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def side(x: Loaded) -> dict[str, Any]:
            return {"file": str(x.path), "method": x.label, "command": x.result.command}

        ds = self.a.result.dataset
        return {
            "a": side(self.a),
            "b": side(self.b),
            "protocol": self.a.result.protocol.get("name"),
            "dataset": {k: ds.get(k) for k in ("name", "split", "file_list_hash")},
            "n_images": self.n_images,
            "ci": {
                "level": self.settings.level,
                "method": f"paired {METHOD} (the same resampled images for A and B)",
                "resamples": self.settings.resamples,
                "seed": self.settings.seed,
            },
            "p_value": P_VALUE,
            "metrics": self.rows,
        }


def compare(a: Loaded, b: Loaded, settings: BootstrapSettings, combine: tuple[str, ...] = ()) -> Comparison:
    """Paired bootstrap of every metric both results report, plus any ``combine`` sums of them."""
    from . import protocol_of, resamplings

    check_comparable(a, b)
    specs = resamplings(protocol_of(a.result.protocol))
    common = [k for k in a.result.metrics if k in b.result.metrics]
    missing = [k for k in common if k not in specs]
    if missing:
        raise CompareError(f"no resampling rule for metric(s) {', '.join(missing)}: cannot compare them")
    combos = [(text, parse_combination(text, common)) for text in combine]
    data_a, data_b = check_data(a, specs, common), check_data(b, specs, common)
    wanted = {k: specs[k] for k in common}
    dist_a = distributions(wanted, data_a, settings.resamples, settings.seed)
    dist_b = distributions(wanted, data_b, settings.resamples, settings.seed)
    values_a = {k: float(a.result.metrics[k]) for k in common}
    values_b = {k: float(b.result.metrics[k]) for k in common}
    for text, terms in combos:
        name = text.replace(" ", "")
        dist_a[name] = np.sum([sign * dist_a[m] for sign, m in terms], axis=0)
        dist_b[name] = np.sum([sign * dist_b[m] for sign, m in terms], axis=0)
        values_a[name] = sum(sign * values_a[m] for sign, m in terms)
        values_b[name] = sum(sign * values_b[m] for sign, m in terms)
    out = Comparison(a, b, settings, data_a.n, combined=[t.replace(" ", "") for t, _ in combos])
    for name in values_a:
        d = dist_a[name] - dist_b[name]
        out.rows[name] = {
            "a": values_a[name],
            "b": values_b[name],
            "diff": values_a[name] - values_b[name],
            "interval": interval(d, settings),
            "p_value": p_value(d),
        }
    return out
