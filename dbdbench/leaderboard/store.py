"""Committed results: portable copies of ``run``/``score`` results and ``bench`` timing records.

``leaderboards/results/<dataset>/<row><variant>.json`` holds one accuracy result, where ``<row>`` is the
method id plus its non-default options (``lbp``, ``lbp@refine=true``) or the ``score --name``, and
``<variant>`` the split, protocol, subset or limit when they differ from the defaults (the same suffix as
``runs/.../result<variant>.json``): ``hifst-released.te1.ddffnet.json``.
``leaderboards/results/timing/<device>/<row>.<size>px.json`` holds one ``bench`` record.

A portable copy keeps the provenance (protocol, dataset record with its file-list hash and image count,
method with options, version and weights provenance, environment, git revision, command) and drops what
only describes one machine's files or one run's cache state: absolute paths, the creation time, the
platform string, and the run's own timing (timing tables come from ``bench``).

Saving over an existing copy whose content would change only in its provenance stamps (:data:`PROVENANCE`:
the environment with versions and git revision, the command line, the run's device and workers) keeps the
existing file, so re-running a committed command that reproduces its numbers (``make demo`` on a fresh
clone) leaves the checkout clean; the copy always records where its numbers were first made. A copy made
from a modified checkout (git revision ``-dirty``) is replaced by a clean one all the same.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

from ..io import _json_default, atomic_write_json
from ..results import RunInfo, RunResult, TimingRecord

DEFAULT_DIR = Path("leaderboards") / "results"


def safe_name(text: str) -> str:
    """A file name from a row id: no path separators, no leading dot."""
    name = str(text).replace("/", "_").replace("\\", "_").strip()
    return "_" + name[1:] if name.startswith(".") else (name or "_")


def _portable_path(value: Any) -> Any:
    """Keep relative paths (they mean the same from the repository root); drop absolute ones."""
    if isinstance(value, str) and Path(value).is_absolute():
        return None
    return value


def _portable_weights(method: dict[str, Any]) -> None:
    """A packaged weights file is named by its file name (its sha256 is the identity), not its install path."""
    prov = method.get("provenance")
    if isinstance(prov, dict) and isinstance(prov.get("weights"), str) and Path(prov["weights"]).is_absolute():
        prov["weights"] = Path(prov["weights"]).name


def portable_result(result: RunResult, row: str) -> RunResult:
    """The copy to commit: records copied (paths made portable, ``method.row`` set), no timing, creation time,
    platform string or cache counts."""
    dataset, method = copy.deepcopy(result.dataset), copy.deepcopy(result.method)
    for section in (dataset, method):
        for key in ("root", "maps", "images", "gt"):
            if key in section:
                section[key] = _portable_path(section[key])
    _portable_weights(method)
    method["row"] = row
    return dataclasses.replace(
        result,
        dataset=dataset,
        method=method,
        timing=None,  # per-image timing of one run under its load and workers: use `dbdbench bench`
        created=None,
        run=RunInfo(result.run.device, result.run.workers) if result.run is not None else None,
        environment=dataclasses.replace(result.environment, platform=None),
        per_image_data=None,  # named by save_result, which writes the copy's own
        portable=True,
    )


def result_file(base: str | Path, dataset: str, row: str, variant: str = "") -> Path:
    return Path(base) / safe_name(dataset) / f"{safe_name(row)}{variant}.json"


def save_result(result: RunResult, row: str, variant: str = "", base: str | Path = DEFAULT_DIR) -> Path:
    """Write the portable copy of ``result`` for row ``row``; ``variant`` is e.g. ``.te1.ddffnet``. Its per-image
    data, when the result carries it, goes beside it (``<row><variant>.per_image.npz``), for ``compare`` and the
    paired significance marks of ``leaderboard --ci``. An existing copy that only its provenance would change
    is kept (:func:`save_result_if_changed`)."""
    return save_result_if_changed(result, row, variant, base)[0]


def save_result_if_changed(
    result: RunResult, row: str, variant: str = "", base: str | Path = DEFAULT_DIR
) -> tuple[Path, bool]:
    """:func:`save_result`, also saying whether the existing copy was kept (same content apart from provenance)."""
    from ..stats import sidecar_name

    path = result_file(base, result.dataset_name, row, variant)
    copy_ = portable_result(result, row)
    if result.per_image is not None:
        copy_.per_image_data = sidecar_name(path)
        result.per_image.write(path.parent / copy_.per_image_data)  # the same data always gives the same bytes
    new = copy_.to_json()
    if provenance_only_change(path, new):
        return path, True
    atomic_write_json(path, new)
    return path, False


#: The parts of a result that say where and how it was made, not what it measured: a saved copy differing from
#: a new one only here is not rewritten.
PROVENANCE = ("environment", "command", "run")


def provenance_only_change(path: Path, new: dict[str, Any]) -> bool:
    """Whether the copy at ``path`` has everything of ``new`` outside :data:`PROVENANCE`, exactly (every number
    to the bit), and was not made from a modified checkout when ``new`` is not."""
    import json

    try:
        old = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(old, dict):
        return False
    new = json.loads(json.dumps(new, default=_json_default))  # as written: tuples become lists, numpy numbers floats

    def revision(obj: dict[str, Any]) -> str:
        env = obj.get("environment")
        return str(env.get("git_revision") or "") if isinstance(env, dict) else ""

    if revision(old).endswith("-dirty") and not revision(new).endswith("-dirty"):
        return False
    return {k: v for k, v in old.items() if k not in PROVENANCE} == {
        k: v for k, v in new.items() if k not in PROVENANCE
    }


def variant_of(result_stem: str) -> str:
    """``result.te1.ddffnet`` -> ``.te1.ddffnet`` (the name ``run``/``score --out`` give a variant)."""
    return result_stem[len("result") :] if result_stem.startswith("result") else f".{result_stem}"


def timing_file(base: str | Path, record: TimingRecord) -> Path:
    size = record.input or {}
    h, w = size.get("height"), size.get("width")
    tag = f"{h}px" if h == w else f"{h}x{w}px"
    return Path(base) / "timing" / safe_name(record.device) / f"{safe_name(str(record.row))}.{tag}.json"


def portable_timing(record: TimingRecord) -> TimingRecord:
    """The copy to commit: the method record copied with its weights named by file name, no platform string."""
    method = copy.deepcopy(record.method)
    _portable_weights(method)
    return dataclasses.replace(
        record, method=method, environment=dataclasses.replace(record.environment, platform=None)
    )


def save_timing(record: TimingRecord, base: str | Path = DEFAULT_DIR) -> Path:
    path = timing_file(base, record)
    atomic_write_json(path, portable_timing(record).to_json())
    return path
