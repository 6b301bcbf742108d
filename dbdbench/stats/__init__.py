"""Statistics over images: confidence intervals (``--ci``), paired comparisons (``compare``) and the
significance marks of ``leaderboard --ci``, all by the percentile bootstrap of :mod:`.bootstrap` on the
per-image data of :mod:`.per_image`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from .bootstrap import (
    METHOD,
    BootstrapSettings,
    Resampling,
    batch_sums,
    ci_record,
    distributions,
    interval,
    p_value,
    point_values,
    settings_of,
)
from .per_image import PerImageData, PerImageDataError, sidecar_name

if TYPE_CHECKING:
    from ..protocols import Protocol


def resamplings(protocol: Protocol) -> dict[str, Resampling]:
    """How every metric of ``protocol`` is recomputed on a resample of images (from its measures)."""
    from ..metrics import Evaluator

    return Evaluator(protocol).resampling()


def protocol_of(record: Mapping[str, Any]) -> Protocol:
    """The protocol a result's ``protocol`` record describes (fields it lacks, from older results, at their
    defaults); only its options matter here, to rebuild the measures."""
    from ..protocols import Protocol

    given = {f.name: record[f.name] for f in fields(Protocol) if f.name in record}
    if isinstance(given.get("source_metrics"), list):
        given["source_metrics"] = tuple(given["source_metrics"])
    return Protocol(**given)


def confidence_intervals(
    protocol: Protocol, data: PerImageData, metrics: Mapping[str, float], settings: BootstrapSettings
) -> dict[str, Any]:
    """The ``ci`` record of a result scored under ``protocol`` with these per-image data and metrics."""
    return ci_record(resamplings(protocol), data, list(metrics), settings)


__all__ = [
    "METHOD",
    "BootstrapSettings",
    "PerImageData",
    "PerImageDataError",
    "Resampling",
    "batch_sums",
    "ci_record",
    "confidence_intervals",
    "distributions",
    "interval",
    "p_value",
    "point_values",
    "protocol_of",
    "resamplings",
    "settings_of",
    "sidecar_name",
]
