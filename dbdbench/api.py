"""The Python API behind the CLI: open a dataset, score maps, run a method. No printing here.

Each function returns data (a :class:`~dbdbench.results.RunResult` and per-image rows) and takes
a ``progress`` callback, so the CLI, notebooks and benchmark scripts share one
code path and get identical numbers.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .datasets.base import Dataset, Listing, files_by_stem
from .datasets.naming import common_suffix, examples
from .datasets.real import subset as subset_listing
from .errors import DatasetError, DbdbenchError, InputError
from .mapcache import config_key
from .methods import Method
from .metrics import Scores
from .plugins import get_registry
from .polarity import MapCheck, MapPolarityCheck, check_declared_gt, polarity_warnings
from .prepare import DEFAULT_DEVICE, PreparedMethod, prepare_method
from .protocols import Protocol
from .results import RunInfo, RunResult, StemList, Timing, build_result, write_result
from .runner import WARM_UP_NOTE, RunOutcome, dataset_dir_name, run_predictions
from .scoring import ScoreItem, score_items
from .stats import BootstrapSettings, PerImageData, confidence_intervals
from .wording import plural

Progress = Callable[[int], None]


def open_dataset(
    name: str,
    *,
    root: str | Path | None = None,
    split: str | None = None,
    gt_polarity: str | None = None,
    options: dict[str, Any] | None = None,
) -> Dataset:
    """Construct a registered adapter; ``gt_polarity`` (``--gt-polarity``) overrides the release's convention
    through the constructor, and options the adapter does not accept are refused there."""
    cls = get_registry().dataset(name)
    options = dict(options or {})
    if gt_polarity is not None:
        if options.get("gt_polarity") not in (None, gt_polarity):
            raise DbdbenchError(
                f"--gt-polarity {gt_polarity} contradicts --dataset-option gt_polarity={options['gt_polarity']}"
            )
        options["gt_polarity"] = gt_polarity
    return cls(root=root, split=split, **options)


def list_samples(dataset: Dataset, *, subset: str | Path | None = None, limit: int | None = None) -> Listing:
    if limit is not None and limit < 1:  # before listing: a usage error comes before any dataset warning
        raise DbdbenchError(f"--limit {limit}: expected a positive number")
    listing = dataset.list()
    # How many the split holds before --subset/--limit: results on fewer say "20 of 200 images".
    dataset.n_available = len(listing.samples)
    if subset is not None:
        listing = subset_listing(listing, subset)
    if limit is not None:
        listing = Listing(samples=listing.samples[:limit], orphan_images=[])
    if not listing.samples:
        raise DatasetError(f"dataset {dataset.name!r} ({dataset.root}): no samples to score")
    return listing


def dataset_record(dataset: Dataset, listing: Listing, *, n_listed: int | None = None) -> dict[str, Any]:
    """The adapter's record plus what was scored: image count, file-list hash, and (``run``) how many were listed."""
    record = dataset.describe()
    record.update(n_images=len(listing.samples), file_list_hash=listing.file_list_hash())
    if n_listed is not None:
        record["n_listed"] = n_listed
    available = getattr(dataset, "n_available", None)
    if isinstance(available, int) and available != len(listing.samples):
        record["n_available"] = available  # a --limit/--subset run: scored on part of the split
    return record


@dataclass
class _Scored:
    """A maps folder scored against a listing: what :func:`build_result` needs from it, and the per-image rows."""

    scores: Scores
    per_image: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    missing: list[str]  # listed stems with no map
    maps: dict[str, Path]  # every map in the folder, by stem
    data: PerImageData  # every metric's per-image parts: what --ci, compare and leaderboard --ci resample
    polarity: MapCheck | None = None  # whether the maps look inverted against the GT (dbdbench.polarity)


def _score_folder(
    maps_dir: Path,
    dataset: Dataset,
    listing: Listing,
    protocol: Protocol,
    *,
    map_suffix: str,
    map_polarity: str,
    allow_missing: bool,
    skip_bad: bool,
    workers: int,
    progress: Progress | None,
    bad_file_hint: Callable[[Path], str | None] | None = None,
) -> _Scored:
    if not maps_dir.is_dir():
        raise DbdbenchError(f"--maps {maps_dir}: not a folder")
    if map_polarity not in ("focus", "blur"):
        raise DbdbenchError(f"--map-polarity {map_polarity!r}: expected focus or blur")
    maps = files_by_stem(maps_dir, suffix=map_suffix)
    items, missing = [], []
    for sample in listing.samples:
        path = maps.get(sample.stem)
        if path is None:
            missing.append(sample.stem)
        else:
            items.append(ScoreItem(sample.stem, path, sample.gt, sample.coc))
    if missing and not allow_missing:
        example = f"{missing[0]}{map_suffix}.png"
        raise DbdbenchError(
            f"{maps_dir}: {len(missing)} of {plural(len(listing.samples), 'GT image')} {'has' if len(missing) == 1 else 'have'}"
            f" no map (first expected: {example}); {_naming_hint(dataset, missing, maps, map_suffix)}, or pass "
            "--allow-missing to score the rest"
        )
    if not items:
        raise DbdbenchError(f"{maps_dir}: no map matches any GT image (map names must be <stem>{map_suffix}.<ext>)")
    polarity = MapPolarityCheck()
    try:
        evaluator, skipped = score_items(
            items,
            protocol,
            gt_polarity=dataset.gt_polarity,
            map_polarity=map_polarity,
            workers=workers,
            skip_bad=skip_bad,
            on_progress=progress,
            polarity=polarity,
        )
    except InputError as exc:  # a torn or unreadable file: name what to do about it
        hint = bad_file_hint(exc.path) if bad_file_hint is not None else None
        if hint is None:
            raise
        raise InputError(exc.path, f"{exc.problem}; {hint}") from None
    if not evaluator.per_image:
        raise DbdbenchError(f"{maps_dir}: every map was skipped as unreadable; nothing to score")
    return _Scored(
        evaluator.results(),
        evaluator.per_image,
        skipped,
        missing,
        maps,
        evaluator.per_image_data(),
        polarity=polarity.result(),
    )


def _naming_hint(dataset: Dataset, missing: list[str], maps: dict[str, Path], map_suffix: str) -> str:
    """What to check when GT images find no map: the suffix that pairs the names, when there is one."""
    found = f"found {examples(p.name for p in maps.values())}" if maps else "the folder has no image files"
    if not map_suffix:
        suffix = common_suffix(missing, maps)  # maps named <stem>_HiFSTBlurMap
        if suffix is not None:
            return f"{found}: add --map-suffix {shlex.quote(suffix)}"
    suffix = common_suffix(maps, missing)  # GT named <stem>_gt, maps <stem>
    if suffix is not None and "gt_suffix" in (dataset.accepted_options or {}):
        return f"{found}: add --gt-suffix {shlex.quote(suffix)}"
    return f"{found}; check --map-suffix"


def _with_data(result: RunResult, scored: _Scored, protocol: Protocol, ci: BootstrapSettings | None) -> RunResult:
    """Attach the per-image data (written beside the result) and, with ``ci``, the bootstrap intervals."""
    result.per_image = scored.data
    if ci is not None:
        result.ci = confidence_intervals(protocol, scored.data, result.metrics, ci)
    return result


def score_maps(
    maps_dir: str | Path,
    dataset: Dataset,
    listing: Listing,
    protocol: Protocol,
    *,
    map_suffix: str = "",
    map_polarity: str = "focus",
    allow_missing: bool = False,
    skip_bad: bool = False,
    workers: int = 2,
    method: dict[str, Any] | None = None,
    progress: Progress | None = None,
    ci: BootstrapSettings | None = None,
) -> tuple[RunResult, list[dict]]:
    """Score precomputed maps (matched to GT by stem + ``map_suffix``) against a dataset's GT; with ``ci``, add
    bootstrap intervals of every metric (the result's ``ci`` record)."""
    maps_dir = Path(maps_dir)
    scored = _score_folder(
        maps_dir,
        dataset,
        listing,
        protocol,
        map_suffix=map_suffix,
        map_polarity=map_polarity,
        allow_missing=allow_missing,
        skip_bad=skip_bad,
        workers=workers,
        progress=progress,
        bad_file_hint=lambda path: "add --skip-bad to score the other images and list this one in the result",
    )
    method = method or {"id": maps_dir.name, "maps": str(maps_dir)}
    method.update(map_suffix=map_suffix, map_polarity=map_polarity)
    result = build_result(
        protocol=protocol,
        dataset=dataset_record(dataset, listing),
        method=method,
        scores=scored.scores,
        skipped=scored.skipped,
        missing_maps=StemList.of(scored.missing),
        # maps in the folder that match no listed GT image: not scored, but reported (a misnamed map shows up here)
        extra_maps=_extra_maps(scored.maps, listing),
        warnings=_polarity_warnings(dataset, scored, listing, protocol, source="score", map_polarity=map_polarity),
    )
    return _with_data(result, scored, protocol, ci), scored.per_image


def score_maps_all(
    maps_dir: str | Path,
    dataset: Dataset,
    listing: Listing,
    protocols: list[Protocol],
    **kwargs: Any,
) -> tuple[dict[str, tuple[RunResult, list[dict]]], dict[str, str]]:
    """:func:`score_maps` under each of ``protocols`` (same keyword arguments): per protocol name its result and
    per-image rows, and apart the protocols that refused these files (name -> one-line reason, e.g. a GT size the
    protocol's resize rule does not accept), so one refusal does not hide the others' numbers. An unreadable
    file stops everything, as it does for one protocol; so does every protocol refusing (the first reason)."""
    from .errors import InputError

    scored: dict[str, tuple[RunResult, list[dict]]] = {}
    refused: dict[str, str] = {}
    first: DbdbenchError | None = None
    for protocol in protocols:
        try:
            method = kwargs.get("method")
            scored[protocol.name] = score_maps(
                maps_dir, dataset, listing, protocol, **{**kwargs, "method": dict(method) if method else None}
            )
        except InputError:
            raise
        except DbdbenchError as exc:
            refused[protocol.name] = str(exc)
            first = first or exc
    if not scored and first is not None:
        raise first
    return scored, refused


def _extra_maps(maps: dict[str, Path], listing: Listing) -> StemList:
    listed = {s.stem for s in listing.samples}
    return StemList.of(sorted(stem for stem in maps if stem not in listed))


def _orphans_message(dataset: Dataset, listing: Listing) -> str:
    """Photos with no GT: the first one, how many, and (when the names differ by a suffix) the option that pairs them."""
    orphans = listing.orphan_images
    text = (
        f"{orphans[0]}: image has no ground truth ({len(orphans)} of "
        f"{plural(len(orphans) + sum(s.image is not None for s in listing.samples), 'image')} in dataset "
        f"{dataset.name!r} have none)"
    )
    unpaired = [s.gt for s in listing.samples if s.image is None]
    if not unpaired:
        return text
    gt_dir = unpaired[0].parent
    text += (
        f"; expected GT files named like the images ({orphans[0].stem}.<ext>) in {gt_dir}, found "
        f"{examples(p.name for p in unpaired)}"
    )
    suffix = common_suffix((p.stem for p in orphans), (p.stem for p in unpaired))
    if suffix is not None and "gt_suffix" in (dataset.accepted_options or {}):
        text += f"; add --gt-suffix {shlex.quote(suffix)} to pair {orphans[0].name} with {orphans[0].stem}{suffix}.*"
    return text


def result_name(dataset: Dataset, protocol: Protocol, limit: int | None, subset: str | Path | None) -> str:
    """``result`` for the default split and protocol on all images; otherwise the variant in the name."""
    parts = []
    if dataset.split != dataset.default_split:
        parts.append(dataset.split)
    if protocol.name != "dbd":
        parts.append(protocol.name.replace("+", "_"))
    if subset is not None:
        parts.append(f"subset-{Path(subset).stem}")
    if limit is not None:
        parts.append(f"limit{limit}")
    return ".".join(["result", *parts])


def run_method(
    method: str | PreparedMethod,
    dataset: Dataset,
    listing: Listing,
    protocol: Protocol,
    *,
    out: str | Path = "runs",
    options: dict[str, Any] | None = None,
    device: str = DEFAULT_DEVICE,
    force: bool = False,
    skip_bad: bool = False,
    workers: int = 1,
    result_stem: str = "result",
    progress: Progress | None = None,
    score_progress: Progress | None = None,
    ci: BootstrapSettings | None = None,
) -> tuple[RunResult, Path]:
    """Predict (reusing cached maps), then score from the cached PNGs and write the result. Returns the result
    and its folder. ``method``: a method id, prepared here with ``options`` and ``device``, or a method the caller
    prepared already (:func:`~dbdbench.prepare.prepare_method`: the CLI does, to refuse bad arguments early)."""
    if isinstance(method, PreparedMethod):
        if options or device != DEFAULT_DEVICE:
            raise DbdbenchError("run_method: a prepared method has its options and device already")
        prepared = method
    else:
        prepared = prepare_method(method, options, device)
    predicted = _predict(
        prepared, dataset, listing, out=out, force=force, skip_bad=skip_bad, workers=workers, progress=progress
    )
    scored = _score_predicted(predicted, dataset, protocol, skip_bad=skip_bad, progress=score_progress)
    result = _with_data(_run_result(predicted, scored, dataset, listing, protocol), scored, protocol, ci)
    write_result(predicted.run_dir, result, scored.per_image, predicted.outcome.times, name=result_stem)
    return result, predicted.run_dir


@dataclass
class _Predicted:
    """What :func:`_predict` did: the instance that ran, where its maps are and which images it predicted."""

    prepared: PreparedMethod
    method: Method
    provenance: dict[str, Any]  # the instance's (weights and their hash, for learned methods)
    cache_key: str  # maps are reused only under this identity
    run_dir: Path
    outcome: RunOutcome
    pre_skipped: list[dict[str, Any]]  # photos with no GT, left out before predicting (--skip-bad)


def _predict(
    prepared: PreparedMethod,
    dataset: Dataset,
    listing: Listing,
    *,
    out: str | Path = "runs",
    force: bool = False,
    skip_bad: bool = False,
    workers: int = 1,
    progress: Progress | None = None,
) -> _Predicted:
    """Build the method and predict every listed image whose map is not cached under this configuration."""
    method = prepared.build()
    provenance = method.provenance()
    if provenance.get("weights") == "random" and prepared.given.get("weights") != "random":
        raise DbdbenchError(
            f"method {prepared.id!r} ({provenance.get('variant', 'this variant')}) has no trained weights; pass "
            "--option weights=PATH, or --option weights=random for an untrained network (timing only)"
        )
    run_dir = Path(out) / prepared.row / dataset_dir_name(dataset)
    # Maps are reused only when made by this exact configuration (weights included) from the same image bytes.
    identity = {
        "method": prepared.id,
        "version": prepared.cls.version,
        "options": prepared.given,
        "plugin_version": prepared.plugin.version,
        "weights_sha256": provenance.get("weights_sha256"),
    }
    cache_key = config_key(identity)
    pre_skipped: list[dict[str, Any]] = []
    if listing.orphan_images:
        if not skip_bad:
            raise DbdbenchError(_orphans_message(dataset, listing) + "; or add --skip-bad to leave them out")
        pre_skipped += [
            {"stem": p.stem, "file": str(p), "reason": "image has no ground truth"} for p in listing.orphan_images
        ]
    outcome = run_predictions(
        prepared,
        method,
        list(listing.samples),
        run_dir,
        cache_key=cache_key,
        force=force,
        skip_bad=skip_bad,
        workers=workers,
        on_progress=progress,
    )
    if not outcome.done:
        first = (pre_skipped + outcome.skipped)[0]["reason"] if pre_skipped or outcome.skipped else "none listed"
        hint = f"; {_orphans_message(dataset, listing)}" if listing.orphan_images else ""
        raise DbdbenchError(
            f"method {prepared.id!r}: no image could be predicted ({plural(len(outcome.skipped), 'image')} skipped; "
            f"first reason: {first}){hint}"
        )
    return _Predicted(prepared, method, provenance, cache_key, run_dir, outcome, pre_skipped)


def _score_predicted(
    predicted: _Predicted, dataset: Dataset, protocol: Protocol, *, skip_bad: bool, progress: Progress | None
) -> _Scored:
    """Score the predicted images from their cached PNGs; the cache may hold other splits' maps (not reported as
    extra)."""
    maps_dir = predicted.outcome.maps_dir
    return _score_folder(
        maps_dir,
        dataset,
        Listing(samples=predicted.outcome.done),
        protocol,
        map_suffix="",
        map_polarity="focus",
        allow_missing=False,
        skip_bad=skip_bad,
        workers=2,
        progress=progress,
        bad_file_hint=lambda path: (
            "a map cached by an earlier run, damaged since: add --force to recompute the maps"
            if Path(path).parent == maps_dir
            else "add --skip-bad to skip it and list it in the result"
        ),
    )


def _run_result(
    predicted: _Predicted, scored: _Scored, dataset: Dataset, listing: Listing, protocol: Protocol
) -> RunResult:
    """The result of a run: the method as it ran (options, provenance, cache), its scores, timing and run record."""
    prepared, outcome = predicted.prepared, predicted.outcome
    done = Listing(samples=outcome.done)
    method_info = prepared.record(
        maps=str(outcome.maps_dir),
        provenance=predicted.provenance,
        cache_key=predicted.cache_key,
        map_suffix="",
        map_polarity="focus",
    )
    times = {s.stem: outcome.times[s.stem] for s in done.samples if s.stem in outcome.times}
    batch_size = int(getattr(predicted.method, "batch_size", 1) or 1)
    return build_result(
        protocol=protocol,
        dataset=dataset_record(dataset, done, n_listed=len(listing.samples)),
        method=method_info,
        scores=scored.scores,
        skipped=predicted.pre_skipped + outcome.skipped + scored.skipped,
        missing_maps=StemList.of(scored.missing),
        timing=Timing.of(times, warm_up=WARM_UP_NOTE, batch_size=batch_size),
        run=RunInfo(
            device=prepared.device,
            workers=outcome.workers,
            maps_computed=outcome.computed,
            maps_reused=outcome.reused,
        ),
        device=prepared.device,
        warnings=_polarity_warnings(dataset, scored, done, protocol, source="run", method_id=prepared.id),
    )


def _polarity_warnings(
    dataset: Dataset, scored: _Scored, listing: Listing, protocol: Protocol, **source: Any
) -> list[dict[str, Any]]:
    """The advisory warnings of scored maps (:mod:`dbdbench.polarity`): maps that look inverted against the GT,
    GT that contradicts the polarity the dataset declares. ``source``: who scored them, for the wording."""
    return polarity_warnings(
        dataset=dataset,
        maps=scored.polarity,
        gt=check_declared_gt(dataset, listing.samples, protocol.gt_threshold),
        **source,
    )
