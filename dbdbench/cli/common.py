"""What every command shares: consoles, progress bars, the protocol and dataset options, result presentation.

Data goes to stdout (a table, or JSON with ``--json``); progress and messages go to stderr.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import DbdbenchError
from ..metric_table import METRICS, RESULT_ORDER
from ..options import parse_option_pairs
from ..wording import images_of, plural

if TYPE_CHECKING:
    from ..results import RunResult


def err_console():
    from rich.console import Console

    # Messages are plain text (paths may contain '[...]'), one line each however long: no markup, no wrapping.
    return Console(stderr=True, highlight=False, markup=False, soft_wrap=True)


def out_console():
    from rich.console import Console

    return Console(highlight=False)


@contextmanager
def progress_bar(label: str, total: int):
    """A rich progress bar on stderr (only when stderr is a terminal); yields an ``advance(n)`` callback."""
    if not sys.stderr.isatty():
        yield lambda n=1: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console(),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n=1: progress.advance(task, n)


@contextmanager
def phase_progress(description: str, total: int):
    """Draws a library phase (:mod:`dbdbench.progress`): the description on its own line (what is made, where it
    is kept), then a rich bar on a terminal, and how long it took. Off a terminal (logs, CI), the two lines only."""
    import time

    console = err_console()
    console.print(description)
    start = time.monotonic()
    with progress_bar("  ", total) as advance:
        yield advance
    console.print(f"  done in {time.monotonic() - start:.1f} s")


def install_progress() -> None:
    """Let the library's long phases (generating a synth split) report through :func:`phase_progress`."""
    from .. import progress

    progress.install(phase_progress)


# ------------------------------------------------------------------ shared options


def with_options(fn, options):
    """``fn`` decorated with click ``options``, listed in ``--help`` in the order given."""
    for option in reversed(options):
        fn = option(fn)
    return fn


#: One override flag per protocol option (``--gt-threshold`` for ``gt_threshold``), with its click settings; a
#: ``negatable`` one is a ``--x/--no-x`` pair that defaults to the preset's value.
PROTOCOL_OVERRIDES: dict[str, dict[str, Any]] = {
    "positive": {"type": click.Choice(["focus", "blur"]), "help": "Override: which class is positive."},
    "gt_threshold": {"type": float, "help": "Override: GT (0..255, in-focus white) is positive where > this."},
    "minmax": {"negatable": True, "help": "Override: per-image min-max normalisation of maps."},
    "quantisation": {
        "type": click.Choice(["round", "floor", "compare"]),
        "help": "Override: score to 256 levels (compare: MATLAB's unquantised map >= t).",
    },
    "adaptive_factor": {"type": float, "help": "Override: adaptive threshold = factor x mean score."},
    "fixed_threshold": {"type": float, "help": "Override: threshold of f_fixed."},
    "resize": {
        "metavar": "RULE",
        "help": "Override: bilinear, bicubic, nearest (to the GT), none (refuse), or WxH (map to a fixed size, 8-bit "
        "Pillow).",
    },
    "aggregation": {
        "type": click.Choice(["image", "curve", "pixel"]),
        "help": "Override: F of per-image curves, of mean P/R, or of counts pooled over every pixel.",
    },
    "beta2": {"type": float, "help": "Override: beta^2 of the F-measure."},
    "gt_rule": {
        "type": click.Choice(["threshold", "adaptive"]),
        "help": "Override: GT mask by --gt-threshold, or adaptive (8-bit GT > min(factor x mean, 255)).",
    },
    "adaptive_rule": {
        "type": click.Choice(["score", "level"]),
        "help": "Override: f_adaptive at score >= min(factor x mean, 1), or 8-bit level > min(factor x mean, 255).",
    },
    "mae_gt": {"type": click.Choice(["binary", "soft"]), "help": "Override: MAE against the binary or the soft GT."},
    "pool_images": {
        "type": click.IntRange(min=0),
        "help": "Override: with --aggregation pixel, pool groups of this many images (0: all).",
    },
    "gt_resize": {
        "type": click.Choice(["none", "nearest"]),
        "help": "Override: with --resize WxH, also resize the GT (Pillow NEAREST).",
    },
}


def _override_option(name: str, settings: dict[str, Any]):
    flag = "--" + name.replace("_", "-")
    given = {k: v for k, v in settings.items() if k != "negatable"}
    if settings.get("negatable"):
        return click.option(f"{flag}/--no-{flag[2:]}", default=None, **given)
    return click.option(flag, **given)


def protocol_options(fn):
    """``--protocol`` plus one override flag per protocol option."""
    protocol = click.option(
        "--protocol",
        default="dbd",
        show_default=True,
        help="Named scoring protocol (see 'dbdbench list protocols'); score also takes 'all' (every protocol, "
        "side by side).",
    )
    return with_options(fn, [protocol, *(_override_option(k, v) for k, v in PROTOCOL_OVERRIDES.items())])


def protocol_from(kw):
    from ..protocols import get_protocol

    name = kw.pop("protocol")
    if name == "all":
        raise DbdbenchError("--protocol all is for 'dbdbench score' (every protocol side by side); give one protocol")
    return get_protocol(name, **{k: kw.pop(k) for k in PROTOCOL_OVERRIDES})


def protocols_from(kw):
    """The protocols ``--protocol`` names: one, or with 'all' every registered protocol (overrides apply to each)."""
    from ..protocols import available_protocols, get_protocol

    name = kw.pop("protocol")
    overrides = {k: kw.pop(k) for k in PROTOCOL_OVERRIDES}
    names = list(available_protocols()) if name == "all" else [name]
    return [get_protocol(n, **overrides) for n in names]


#: Where a dataset's root is looked for, in order: the same words in every command's help.
ROOT_HELP = (
    "Dataset root (default: $DBDBENCH_DATA/<name>, else the user data folder, on Linux "
    "~/.local/share/dbdbench/datasets/<name>; synth: generated into the cache)."
)


def dataset_options(fn=None, *, default: str | None = None):
    """The dataset options of ``run`` and ``score``; ``default`` is the dataset used without --dataset (``run``:
    synth), said in that command's help only. Use as ``@dataset_options`` or ``@dataset_options(default=...)``."""
    if fn is None:
        return lambda f: dataset_options(f, default=default)
    dataset_help = "Dataset adapter, any case (see 'dbdbench list datasets'); " + (
        f"default: {default}." if default else "required unless --gt is given."
    )
    options = [
        click.option("--dataset", "dataset_name", help=dataset_help),
        click.option("--root", type=click.Path(path_type=Path), help=ROOT_HELP),
        click.option("--split", help="Dataset split (default: the dataset's default)."),
        click.option("--images", type=click.Path(path_type=Path), help="With --dataset folder: the photos."),
        click.option("--gt", type=click.Path(path_type=Path), help="A folder of GT masks (implies --dataset folder)."),
        click.option(
            "--gt-polarity",
            type=click.Choice(["focus", "blur"]),
            help="White GT pixels are in focus, or blurred (required with --gt).",
        ),
        click.option(
            "--gt-suffix",
            default="",
            help="With --gt: GT file name = <image stem><suffix>.<ext>, e.g. _gt for 1.jpg and 1_gt.bmp.",
        ),
        click.option(
            "--subset", type=click.Path(path_type=Path), help="Text file of image names to keep (one a line)."
        ),
        click.option(
            "--dataset-option",
            "dataset_option",
            multiple=True,
            metavar="KEY=VALUE",
            help="Adapter option (e.g. n=50 for synth).",
        ),
    ]
    return with_options(fn, options)


def dataset_from(kw, default_dataset: str | None = None):
    """The dataset the options describe; without --dataset (and --gt), ``default_dataset`` (``run``: synth)."""
    from ..api import open_dataset

    name = canonical_dataset(kw.pop("dataset_name"))
    images, gt, gt_polarity = kw.pop("images"), kw.pop("gt"), kw.pop("gt_polarity")
    gt_suffix = kw.pop("gt_suffix", "")
    options = parse_option_pairs(kw.pop("dataset_option"))
    if gt is not None or images is not None:
        if name not in (None, "folder"):
            raise DbdbenchError("--gt/--images describe a folder dataset; do not combine them with --dataset " + name)
        if gt is None:
            raise DbdbenchError("--images needs --gt DIR (and --gt-polarity focus|blur)")
        options.update(images=images, gt=gt)
        if gt_suffix:
            options["gt_suffix"] = gt_suffix
        return open_dataset(
            "folder", root=kw.pop("root"), split=kw.pop("split"), gt_polarity=gt_polarity, options=options
        )
    if gt_suffix:
        if name != "folder":
            raise DbdbenchError("--gt-suffix applies to a folder dataset (--gt DIR); other adapters know their names")
        options["gt_suffix"] = gt_suffix
    if name is None:
        if default_dataset is None:
            raise DbdbenchError(
                "give --dataset NAME (see 'dbdbench list datasets') or --gt DIR --gt-polarity focus|blur"
            )
        name = default_dataset
    return open_dataset(name, root=kw.pop("root"), split=kw.pop("split"), gt_polarity=gt_polarity, options=options)


def canonical_dataset(name: str | None) -> str | None:
    """A registered dataset's name as typed in any case (``--dataset DUT`` is ``dut``); unknown names pass through
    unchanged, for the registry's own error that lists the known ones."""
    if name is None:
        return None
    from ..plugins import get_registry

    known = get_registry().datasets
    if name in known:
        return name
    matches = [k for k in known if k.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else name


def selection_options(fn):
    """``--dataset`` and ``--method`` of the commands that read run folders (``plot``, ``report``)."""
    options = [
        click.option(
            "--dataset", "dataset_name", multiple=True, help="Only results on this dataset (any case; repeatable)."
        ),
        click.option(
            "--method",
            "--methods",
            "methods",
            multiple=True,
            metavar="NAMES",
            help="Only these rows (method folder names such as lbp@refine=true, or method ids); comma-separated or "
            "repeated.",
        ),
    ]
    return with_options(fn, options)


def selection(dataset_name, methods) -> dict:
    """The values of :func:`selection_options` as the run-folder reader's ``dataset`` and ``methods`` arguments:
    datasets by their registered names, method names split at commas."""
    return {"dataset": [canonical_dataset(d) or d for d in dataset_name], "methods": split_names(methods)}


def split_names(values) -> list[str]:
    """``--methods a,b --methods c`` -> ``[a, b, c]``."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def warn_plugin_failures():
    from ..plugins import get_registry

    for record in get_registry().failures():
        err_console().print(
            f"warning: plugin {record.name!r} failed to load and was skipped: {record.error} (see 'dbdbench plugins')"
        )


# ------------------------------------------------------------------ presentation


def print_table(title, columns, rows):
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    out_console().print(table)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def skipped_sentence(skipped: list[dict]) -> str:
    """``2 images (listed in the result's 'skipped'); the first, im03: maps/im03.png: truncated ...`` for a summary
    line that starts with "skipped ". The entries are result records, not for printing as they are."""
    first = skipped[0]
    where = first.get("file")
    reason = (
        f"{where}: {first.get('reason')}"
        if where and str(where) not in str(first.get("reason"))
        else first.get("reason")
    )
    return (
        f"{plural(len(skipped), 'image')} (listed in the result's 'skipped'); the first, {first.get('stem')}: {reason}"
    )


def _extra_note(protocol: dict[str, Any]) -> str:
    """What the '*' of a summary's extras means: not the source's metric, or, under a protocol with no external
    source (``dbd``, dbdbench's own), not one of the metrics it names as its own."""
    source = protocol.get("source")
    if source:
        return f"not defined by the protocol's source ({source})"
    return f"not one of protocol {protocol['name']}'s own metrics"


def present_result(result: RunResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, default=str))
        return
    from rich.table import Table

    m = result.metrics
    ds = result.dataset
    count = images_of(ds, result.n_images)  # "20 of 200 images" for a --limit run or a partial copy
    title = (
        f"{result.method.get('id')} on {ds['name']} ({ds.get('split')}, {count}), protocol {result.protocol['name']}"
    )
    table = Table(title=title)
    protocol = result.protocol
    extras = set(protocol.get("extra_metrics") or [])
    # in result order; a metric that is not summary_as_extra only where the protocol's source defines it (f_score1)
    keys = [k for k in RESULT_ORDER if k in m and (k not in extras or METRICS[k].summary_as_extra)]
    for k in keys:
        table.add_column(f"{k} {METRICS[k].arrow}{' *' if k in extras else ''}", justify="right")
    table.add_row(*(f"{m[k]:.4f}" for k in keys))
    intervals = (result.ci or {}).get("metrics") or {}
    if intervals:  # --ci: each metric's interval under its value
        table.add_row(*(f"[{intervals[k][0]:.4f}, {intervals[k][1]:.4f}]" if k in intervals else "-" for k in keys))
    console = out_console()
    console.print(table)
    if intervals and result.ci is not None:
        ci = result.ci
        console.print(
            f"\\[lo, hi]: {ci['level'] * 100:g}% {ci['method']} ({ci['resamples']} resamples, seed {ci['seed']})"
        )
    if extras & set(keys):
        console.print(f"* {_extra_note(protocol)}: computed by dbdbench under its options")
    if result.timing:
        t = result.timing
        console.print(
            f"predict time: {t.mean_s * 1000:.1f} ms/image mean, {t.median_s * 1000:.1f} ms median over {plural(t.images_timed, 'image')}"
        )
    if result.coc_bands:
        bands = Table(title="by circle of confusion (px)")
        for col in ("CoC band", "pixels", "accuracy", "predicted in focus", "mae"):
            bands.add_column(col, justify="right")
        for b in result.coc_bands:
            rates = (b["accuracy"], b["predicted_in_focus"], b["mae"])
            bands.add_row(b["band_px"], str(b["pixels"]), *(f"{r:.3f}" if r is not None else "-" for r in rates))
        console.print(bands)
    if result.skipped:
        err_console().print(f"skipped {skipped_sentence(result.skipped)}")
    missing = result.missing_maps.count if result.missing_maps else 0
    if missing:
        were = "was" if missing == 1 else "were"
        err_console().print(f"{plural(missing, 'GT image')} had no map and {were} not scored (--allow-missing)")
