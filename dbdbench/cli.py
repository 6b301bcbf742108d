"""The ``dbdbench`` command line: parse arguments, call :mod:`dbdbench.api`, present results.

Data goes to stdout (a table, or JSON with ``--json``); progress and messages
go to stderr. Every user-facing failure is one line on stderr and a non-zero
exit code; ``--debug`` (or ``DBDBENCH_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from . import __version__
from .errors import DbdbenchError
from .methods import parse_option_pairs

EXIT_USER_ERROR = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


def _stderr():
    from rich.console import Console

    # Messages are plain text (paths may contain '[...]'), one line each however long: no markup, no wrapping.
    return Console(stderr=True, highlight=False, markup=False, soft_wrap=True)


def _stdout():
    from rich.console import Console

    return Console(highlight=False)


@contextmanager
def progress_bar(label: str, total: int):
    """A rich progress bar on stderr (only when stderr is a terminal); yields an ``advance(n)`` callback."""
    if not sys.stderr.isatty():
        yield lambda n=1: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=_stderr(), transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n=1: progress.advance(task, n)


# ------------------------------------------------------------------ shared options


def protocol_options(fn):
    """``--protocol`` plus one override flag per protocol option."""
    options = [
        click.option("--protocol", default="dbd", show_default=True, help="Named scoring protocol (see 'dbdbench list protocols')."),
        click.option("--positive", type=click.Choice(["focus", "blur"]), help="Override: which class is positive."),
        click.option("--gt-threshold", type=float, help="Override: GT (0..255, in-focus white) is positive where > this."),
        click.option("--minmax/--no-minmax", default=None, help="Override: per-image min-max normalisation of maps."),
        click.option("--quantisation", type=click.Choice(["round", "floor"]), help="Override: score to 256 levels."),
        click.option("--adaptive-factor", type=float, help="Override: adaptive threshold = factor x mean score."),
        click.option("--fixed-threshold", type=float, help="Override: threshold of f_fixed."),
        click.option("--resize", type=click.Choice(["bilinear", "nearest", "none"]), help="Override: map-to-GT resize rule."),
        click.option("--aggregation", type=click.Choice(["image", "curve"]), help="Override: F of per-image curves, or of mean P/R."),
        click.option("--beta2", type=float, help="Override: beta^2 of the F-measure."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _protocol(kw):
    from .protocols import get_protocol

    keys = ("positive", "gt_threshold", "minmax", "quantisation", "adaptive_factor", "fixed_threshold", "resize", "aggregation", "beta2")
    return get_protocol(kw.pop("protocol"), **{k: kw.pop(k) for k in keys})


def dataset_options(fn):
    options = [
        click.option("--dataset", "dataset_name", help="Dataset adapter (see 'dbdbench list datasets')."),
        click.option("--root", type=click.Path(path_type=Path), help="Dataset root (default: $DBDBENCH_DATA/<name>)."),
        click.option("--split", help="Dataset split (default: the dataset's default)."),
        click.option("--images", type=click.Path(path_type=Path), help="With --dataset folder: the photos."),
        click.option("--gt", type=click.Path(path_type=Path), help="A folder of GT masks (implies --dataset folder)."),
        click.option("--gt-polarity", type=click.Choice(["focus", "blur"]), help="White GT pixels are in focus, or blurred."),
        click.option("--subset", type=click.Path(path_type=Path), help="Text file of image names to keep (one a line)."),
        click.option("--dataset-option", "dataset_option", multiple=True, metavar="KEY=VALUE", help="Adapter option (e.g. n=50 for synth)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _open_dataset(kw):
    from .api import open_dataset

    name = kw.pop("dataset_name")
    images, gt, gt_polarity = kw.pop("images"), kw.pop("gt"), kw.pop("gt_polarity")
    options = parse_option_pairs(kw.pop("dataset_option"))
    if gt is not None or images is not None:
        if name not in (None, "folder"):
            raise DbdbenchError("--gt/--images describe a folder dataset; do not combine them with --dataset " + name)
        if gt is None:
            raise DbdbenchError("--images needs --gt DIR (and --gt-polarity focus|blur)")
        options.update(images=images, gt=gt, gt_polarity=gt_polarity or "focus")
        return open_dataset("folder", root=kw.pop("root"), split=kw.pop("split"), options=options)
    if name is None:
        raise DbdbenchError("give --dataset NAME (see 'dbdbench list datasets') or --gt DIR --gt-polarity focus|blur")
    return open_dataset(name, root=kw.pop("root"), split=kw.pop("split"), gt_polarity=gt_polarity, options=options)


# ------------------------------------------------------------------ the group


class DbdbenchGroup(click.Group):
    """Adds plugin commands lazily, so a broken plugin cannot break ``--help``."""

    _plugins_added = False

    def _add_plugin_commands(self):
        if self._plugins_added:
            return
        self._plugins_added = True
        try:
            from .plugins import get_registry

            for impl in get_registry().manager.hook.register_commands.get_hookimpls():
                try:
                    impl.function(cli=self)
                except Exception as exc:  # noqa: BLE001
                    _stderr().print(f"warning: plugin {impl.plugin_name!r} failed to add commands: {exc}")
        except DbdbenchError:
            pass

    def list_commands(self, ctx):
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        self._add_plugin_commands()
        return super().get_command(ctx, name)


@click.group(cls=DbdbenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbdbench")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx, debug):
    """dbdbench: comparable defocus blur detection benchmarks."""
    if debug:
        os.environ["DBDBENCH_DEBUG"] = "1"


def _warn_plugin_failures():
    from .plugins import get_registry

    for record in get_registry().failures():
        _stderr().print(f"warning: plugin {record.name!r} failed to load and was skipped: {record.error} (see 'dbdbench plugins')")


# ------------------------------------------------------------------ score


@cli.command()
@click.option("--maps", "maps_dir", required=True, type=click.Path(path_type=Path), help="Folder of predicted maps.")
@dataset_options
@click.option("--map-suffix", default="", help="Map file name = <stem><suffix>.<ext>, e.g. _HiFSTBlurMap.")
@click.option("--map-polarity", type=click.Choice(["focus", "blur"]), default="focus", show_default=True, help="White map pixels mean in focus, or blurred.")
@protocol_options
@click.option("--allow-missing", is_flag=True, help="Score the GT images that have a map; report how many have none.")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable files and report them, instead of stopping.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="Threads decoding files.")
@click.option("--out", type=click.Path(path_type=Path), help="Also write result[.<split>.<protocol>].json and per_image[...].csv into this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def score(maps_dir, map_suffix, map_polarity, allow_missing, skip_bad, workers, out, as_json, **kw):
    """Score precomputed maps from any method against a dataset's ground truth."""
    from .api import list_samples, result_name, score_maps
    from .results import write_result

    _warn_plugin_failures()
    protocol = _protocol(kw)
    subset = kw.pop("subset")
    dataset = _open_dataset(kw)
    listing = list_samples(dataset, subset=subset)
    with progress_bar("scoring", len(listing.samples)) as advance:
        result, per_image = score_maps(
            maps_dir, dataset, listing, protocol, map_suffix=map_suffix, map_polarity=map_polarity,
            allow_missing=allow_missing, skip_bad=skip_bad, workers=workers, progress=advance,
        )
    if out is not None:
        write_result(out, result, per_image, name=result_name(dataset, protocol, None, subset))
    _present(result, as_json)


# ------------------------------------------------------------------ run


@cli.command()
@click.option("--method", "method_id", required=True, help="Method id (see 'dbdbench list methods').")
@dataset_options
@click.option("--option", "method_option", multiple=True, metavar="KEY=VALUE", help="Method option (repeatable).")
@click.option("--limit", type=int, help="Only the first N images (sorted by name).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda (learned methods).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True, help="Runs folder.")
@protocol_options
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Processes predicting in parallel.")
@click.option("--force", is_flag=True, help="Recompute maps even if cached.")
@click.option("--skip-bad", is_flag=True, help="Skip images that fail and report them, instead of stopping.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def run(method_id, method_option, limit, device, out, workers, force, skip_bad, as_json, **kw):
    """Run a method on a dataset: predict, cache maps as PNG, score from the cache."""
    from .api import list_samples, result_name, run_method

    _warn_plugin_failures()
    protocol = _protocol(kw)
    subset = kw.pop("subset")
    dataset = _open_dataset(kw)
    listing = list_samples(dataset, subset=subset, limit=limit)
    n = len(listing.samples)
    with progress_bar(f"{method_id} on {dataset.name}", n) as advance:
        result, run_dir = run_method(
            method_id, dataset, listing, protocol, out=out, options=parse_option_pairs(method_option),
            device=device, force=force, skip_bad=skip_bad, workers=workers,
            result_stem=result_name(dataset, protocol, limit, subset), progress=advance,
        )
    if not as_json:
        _stderr().print(f"maps and results in {run_dir}")
    _present(result, as_json)


# ------------------------------------------------------------------ list / plugins / leaderboard


@cli.command(name="list")
@click.argument("what", type=click.Choice(["methods", "datasets", "protocols", "metrics"]))
@click.option("--json", "as_json", is_flag=True)
def list_(what, as_json):
    """List registered methods or datasets, the named protocols, or the metrics."""
    from .metrics import METRICS
    from .plugins import get_registry
    from .protocols import PROTOCOLS

    _warn_plugin_failures()
    reg = get_registry()
    if what == "methods":
        rows = [dict(cls.describe(), plugin=plugin) for _, (cls, plugin) in sorted(reg.methods.items())]
    elif what == "datasets":
        rows = [dict(cls.info(), plugin=plugin) for _, (cls, plugin) in sorted(reg.datasets.items())]
    elif what == "protocols":
        rows = [p.as_dict() for p in PROTOCOLS.values()]
    else:
        rows = [{"name": k, "meaning": v[0], "better": v[1]} for k, v in METRICS.items()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    columns = {
        "methods": ("id", "name", "kind", "year", "plugin"),
        "datasets": ("name", "title", "gt_polarity", "default_split", "splits"),
        "protocols": ("name", "positive", "gt_threshold", "minmax", "quantisation", "aggregation", "adaptive_factor"),
        "metrics": ("name", "better", "meaning"),
    }[what]
    _print_table(what, columns, rows)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json):
    """Show every plugin, what it registered, and any load error."""
    from .plugins import get_registry

    rows = [p.as_dict() for p in get_registry().plugins]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _print_table("plugins", ("name", "source", "version", "status", "methods", "datasets", "error"), rows)


@cli.command()
@click.argument("runs_dir", type=click.Path(path_type=Path), default=Path("runs"))
@click.option("--dataset", "dataset_name", help="Only this dataset.")
@click.option("--result", "result_name", default=None, help="Only this result file of each run (e.g. result.te1.ddffnet); default: all.")
@click.option("--out", type=click.Path(path_type=Path), help="Write the markdown here (atomically) instead of stdout.")
def leaderboard(runs_dir, dataset_name, result_name, out):
    """Generate leaderboard markdown from RUNS_DIR/<method>/<dataset>/result*.json.

    One accuracy table per (dataset, split, protocol, file list), each with its own timing table.
    """
    from .io import atomic_write_text
    from .leaderboard import collect_results, render_markdown

    results, unreadable = collect_results(runs_dir, result_name=result_name, dataset=dataset_name)
    for path, problem in unreadable:
        _stderr().print(f"warning: {path}: {problem}; left out of the leaderboard")
    text = render_markdown(results)
    if out:
        atomic_write_text(out, text)
        _stderr().print(f"wrote {out} ({len(results)} results)")
    else:
        click.echo(text, nl=False)


# ------------------------------------------------------------------ presentation


def _print_table(title, columns, rows):
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    _stdout().print(table)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _present(result, as_json):
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
        return
    from rich.table import Table

    m = result["metrics"]
    ds = result["dataset"]
    title = f"{result['method'].get('id')} on {ds['name']} ({ds.get('split')}, {result['n_images']} images), protocol {result['protocol']['name']}"
    table = Table(title=title)
    for col in ("mae ↓", "f_max ↑", "f_mean ↑", "f_adaptive ↑", "f_fixed ↑"):
        table.add_column(col, justify="right")
    table.add_row(*(f"{m[k]:.4f}" for k in ("mae", "f_max", "f_mean", "f_adaptive", "f_fixed")))
    console = _stdout()
    console.print(table)
    if result.get("timing"):
        t = result["timing"]
        console.print(f"predict time: {t['mean_s'] * 1000:.1f} ms/image mean, {t['median_s'] * 1000:.1f} ms median over {t['images_timed']} images")
    if result.get("coc_bands"):
        bands = Table(title="by circle of confusion (px)")
        for col in ("CoC band", "pixels", "accuracy", "predicted in focus", "mae"):
            bands.add_column(col, justify="right")
        for b in result["coc_bands"]:
            bands.add_row(b["band_px"], str(b["pixels"]), *(f"{b[k]:.3f}" if b[k] is not None else "-" for k in ("accuracy", "predicted_in_focus", "mae")))
        console.print(bands)
    if result.get("skipped"):
        _stderr().print(f"skipped {len(result['skipped'])} images (listed in the result's 'skipped'); first: {result['skipped'][0]}")
    missing = result.get("missing_maps", {}).get("count")
    if missing:
        _stderr().print(f"{missing} GT images had no map and were not scored (--allow-missing)")


def main(argv=None):
    """Entry point: turns every failure into one line on stderr and an exit code."""
    debug = os.environ.get("DBDBENCH_DEBUG", "") not in ("", "0") or "--debug" in (argv or sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="dbdbench", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _stderr().print("interrupted; maps already written are kept, re-run to resume")
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DbdbenchError as exc:
        if debug:
            raise
        _stderr().print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:
        # A file-system problem the user can act on (output path is a file, disk full, read-only, no permission):
        # name the file and the problem. An OSError that names no file and is not about the disk is a bug.
        import errno

        about_disk = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
        if debug:
            raise
        if exc.filename is None and not about_disk:
            _internal_error(exc)
        where = f"{exc.filename}: " if exc.filename is not None else ""
        _stderr().print(f"error: {where}{exc.strerror or exc}")
        sys.exit(DbdbenchError.exit_code)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if debug:
            raise
        _internal_error(exc)


def _internal_error(exc: BaseException):
    """A bug in dbdbench or a plugin: one line naming the exception, exit 1."""
    detail = str(exc).strip().splitlines()
    _stderr().print(f"error: internal error ({type(exc).__name__}: {detail[0] if detail else ''}); re-run with --debug for the traceback")
    sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()
