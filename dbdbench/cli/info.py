"""``list`` and ``plugins``: what is registered, and what failed to load."""

from __future__ import annotations

import json

import click

from .app import cli
from .common import (
    print_table,
    warn_plugin_failures,
)


@cli.command(name="list")
@click.argument("what", type=click.Choice(["methods", "datasets", "protocols", "metrics"]))
@click.option("--json", "as_json", is_flag=True)
def list_(what, as_json):
    """List registered methods or datasets, the named protocols, or the metrics."""
    from ..metrics import METRICS
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
        rows = [{"name": k, "meaning": v[0], "better": v[1]} for k, v in METRICS.items()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    columns = {
        "methods": ("id", "name", "kind", "year", "plugin"),
        "datasets": ("name", "title", "gt_polarity", "default_split", "splits"),
        "protocols": (
            "name",
            "positive",
            "gt_threshold",
            "minmax",
            "quantisation",
            "resize",
            "aggregation",
            "source_metrics",
            "expects",
            "plugin",
        ),
        "metrics": ("name", "better", "meaning"),
    }[what]
    print_table(what, columns, rows)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json):
    """Show every plugin, what it registered, and any load error."""
    from ..plugins import get_registry

    rows = [p.as_dict() for p in get_registry().plugins]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    print_table("plugins", ("name", "source", "version", "status", "methods", "datasets", "error"), rows)
