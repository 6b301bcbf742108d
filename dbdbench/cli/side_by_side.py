"""``dbdbench score --protocol all``: one maps folder under every registered protocol, side by side.

The point is to see at once how one number maps to each paper's: the same maps give F = 0.80 under one
evaluation code and 0.22 under another. Each protocol's result is exactly what ``score --protocol P`` gives
(same function, same options), so ``--out`` and ``--save-to-leaderboard`` write one result per protocol under
the name that command would use; a protocol that refuses these files (e.g. ``sg`` on GT that is not 320x320)
is reported with its reason and the others are still shown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..metric_table import METRICS, RESULT_ORDER
from .common import err_console, out_console, progress_bar

if TYPE_CHECKING:
    from ..datasets.base import Dataset, Listing
    from ..protocols import Protocol
    from ..results import RunResult


def score_every_protocol(
    maps_dir: Path,
    dataset: Dataset,
    listing: Listing,
    protocols: list[Protocol],
    *,
    subset: Path | None,
    out: Path | None,
    as_json: bool,
    save_to: Path | None,
    **score_kwargs: Any,
) -> None:
    from ..api import result_name, score_maps_all
    from ..results import write_result

    with progress_bar("scoring under every protocol", len(listing.samples) * len(protocols)) as advance:
        scored, refused = score_maps_all(maps_dir, dataset, listing, protocols, progress=advance, **score_kwargs)
    for protocol in protocols:
        if protocol.name not in scored:
            continue
        result, per_image = scored[protocol.name]
        stem = result_name(dataset, protocol, None, subset)
        if out is not None:
            write_result(out, result, per_image, name=stem)
        if save_to is not None:
            from .leaderboard import save_result_copy

            save_result_copy(result, result.method["id"], stem, save_to)
    results = {name: result for name, (result, _) in scored.items()}
    if as_json:
        click.echo(json.dumps(side_by_side_json(results, refused), indent=2, default=str))
    else:
        present_side_by_side(results, refused)


def _metric_keys(results: dict[str, RunResult]) -> list[str]:
    """The metrics any of the results has, in result order."""
    return [k for k in RESULT_ORDER if any(k in r.metrics for r in results.values())]


def side_by_side_json(results: dict[str, RunResult], refused: dict[str, str]) -> dict[str, Any]:
    """The machine form: the metrics as ``{metric: {protocol: value}}``, each protocol's extras, the refused
    protocols with their reasons, and every protocol's complete result (as ``score --json`` prints it)."""
    first = next(iter(results.values()))
    return {
        "method": first.method,
        "dataset": first.dataset,
        "protocols": list(results),
        "metrics": {
            k: {name: r.metrics[k] for name, r in results.items() if k in r.metrics} for k in _metric_keys(results)
        },
        "extra_metrics": {name: list(r.protocol.get("extra_metrics") or []) for name, r in results.items()},
        "refused": refused,
        "results": {name: r.to_json() for name, r in results.items()},
    }


def present_side_by_side(results: dict[str, RunResult], refused: dict[str, str]) -> None:
    """One table: a row per metric, a column per protocol; extras (metrics a protocol's source does not define,
    computed by dbdbench under that protocol's options) marked with '*'."""
    from rich.table import Table

    from ..wording import images_of

    first = next(iter(results.values()))
    ds = first.dataset
    title = (
        f"{first.method.get('id')} on {ds['name']} ({ds.get('split')}, {images_of(ds, first.n_images)}): every protocol"
    )
    table = Table(title=title)
    table.add_column("metric")
    for name in results:
        table.add_column(name, justify="right")
    for key in _metric_keys(results):
        cells = []
        for r in results.values():
            value = r.metrics.get(key)
            extra = key in (r.protocol.get("extra_metrics") or [])
            cells.append("" if value is None else f"{value:.4f}{' *' if extra else '  '}")
        table.add_row(f"{key} {METRICS[key].arrow}", *cells)
    if any(r.n_images != first.n_images for r in results.values()):
        table.add_row("images", *(str(r.n_images) for r in results.values()))
    console = out_console()
    console.print(table)
    console.print("* not defined by that protocol's source: computed by dbdbench under its options")
    for name, r in results.items():
        console.print(f"  {name}: {r.protocol.get('source') or 'dbdbench itself'}", soft_wrap=True)
    for name, reason in refused.items():
        err_console().print(f"protocol {name} not scored: {reason}")
    for name, r in results.items():
        if r.skipped:
            err_console().print(f"protocol {name}: skipped {len(r.skipped)} images (listed in its result's 'skipped')")
