"""``list`` and ``plugins``: what is registered, and what failed to load."""

from __future__ import annotations

import json

import click

from ..wording import plural
from .app import cli
from .common import (
    print_table,
    warn_plugin_failures,
)


@cli.command(name="list", short_help="List the methods, datasets, protocols or metrics.")
@click.argument("what", type=click.Choice(["methods", "datasets", "protocols", "metrics"]))
@click.option("--json", "as_json", is_flag=True, help="Print the full records as JSON (every field).")
def list_(what, as_json):
    """List registered methods or datasets, the named protocols, or the metrics."""
    from ..metric_table import METRICS
    from ..plugins import get_registry

    warn_plugin_failures()
    reg = get_registry()
    if what == "methods":
        rows = [dict(cls.describe(), plugin=plugin) for _, (cls, plugin) in sorted(reg.methods.items())]
    elif what == "datasets":
        rows = [dict(cls.info(), plugin=plugin) for _, (cls, plugin) in sorted(reg.datasets.items())]
    elif what == "protocols":
        rows = [dict(p.options(), plugin=plugin) for p, plugin in reg.protocols.values()]
    else:
        rows = [{"name": k, "meaning": m.definition, "better": m.better} for k, m in METRICS.items()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if what == "datasets":
        print_records([_dataset_record(r) for r in rows])
    elif what == "protocols":
        print_records([_protocol_record(r) for r in rows])
    else:
        columns = {"methods": ("id", "name", "kind", "year", "plugin"), "metrics": ("name", "better", "meaning")}[what]
        print_table(what, columns, rows)


# Datasets, protocols and plugins have long fields (layouts, sources, errors) that no table shows readably in 80
# columns: each is a block instead, a heading line and indented lines that wrap at the terminal's width.


def print_records(records: list[tuple[str, str, list[tuple[str, str]]]]) -> None:
    """Print ``(name, summary, [(label, text), ...])`` blocks, wrapped to the terminal ($COLUMNS), a blank line apart."""
    import shutil
    import textwrap

    width = max(40, shutil.get_terminal_size((80, 24)).columns)

    def wrap(text: str, first: str, rest: str) -> str:
        return textwrap.fill(
            text, width, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
        )

    blocks = []
    for name, summary, lines in records:
        block = [wrap(f"{name}  {summary}" if summary else name, "", "    ")]
        block += [wrap(f"{label}: {text}", "  ", "    ") for label, text in lines if text]
        blocks.append("\n".join(block))
    click.echo("\n\n".join(blocks))


def _dataset_record(d: dict) -> tuple[str, str, list[tuple[str, str]]]:
    counts = d.get("expected_counts") or {}
    splits = ", ".join(
        split
        + (f" ({plural(counts[split], 'image')})" if split in counts else "")
        + (" [default]" if split == d.get("default_split") else "")
        for split in d.get("splits", [])
    )
    polarity = str(d.get("gt_polarity"))
    white = {"focus": "in focus", "blur": "blurred"}.get(polarity, polarity)
    options = "; ".join(f"{k}: {v}" for k, v in (d.get("options") or {}).items())
    return (
        d["name"],
        d.get("title", ""),
        [
            ("GT", f"white = {white} (gt_polarity {polarity})"),
            ("splits", splits),
            ("layout", d.get("layout", "")),
            ("get it", d.get("source", "")),
            ("--dataset-option", options),
            ("plugin", d.get("plugin", "")),
        ],
    )


def _protocol_record(p: dict) -> tuple[str, str, list[tuple[str, str]]]:
    from ..protocols import LATER_OPTIONS

    keys = ("positive", "gt_threshold", "minmax", "quantisation", "adaptive_factor", "fixed_threshold", "resize")
    later = [k for k, default in LATER_OPTIONS.items() if p.get(k, default) != default]  # shown when not default
    options = ", ".join(f"{k}={p[k]}" for k in (*keys, "aggregation", "beta2", *later) if k in p)
    return (
        p["name"],
        "",
        [
            ("what", p.get("description", "")),
            ("options", options),
            ("reproduces", p.get("source", "")),
            ("its metrics", ", ".join(p.get("source_metrics") or [])),
            ("expects", p.get("expects", "")),
            ("plugin", p.get("plugin", "")),
        ],
    )


@cli.command(short_help="Show every plugin, what it registered, and any load error.")
@click.option("--json", "as_json", is_flag=True, help="Print the plugins as JSON.")
def plugins(as_json):
    """Show every plugin, what it registered, and any load error."""
    from ..plugins import get_registry

    rows = [p.as_dict() for p in get_registry().plugins]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    records = []
    for p in rows:
        version = f" {p['version']}" if p.get("version") else ""
        registered = [(k, ", ".join(map(str, v))) for k, v in p.items() if isinstance(v, list) and v]
        records.append(
            (
                p["name"],
                f"{p.get('status')} (from {p.get('source')}{version})",
                [*registered, ("error", p.get("error") or "")],
            )
        )
    print_records(records)
