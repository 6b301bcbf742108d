"""Prepare a method once: look it up, resolve its options, choose its device, then build it and describe it.

Every place that makes a method goes through :func:`prepare_method`: ``run`` (and each of its worker processes),
``bench``, the leaderboard row a run is saved under, and the benchmark scripts. So the options a result records,
the folder its maps are cached in and the device it ran on are computed one way, and cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import DbdbenchError
from .methods import Method
from .options import resolve_options
from .plugins import PluginRecord, get_registry, one_line

#: What ``--device`` means when not given, for the API and the CLI alike: a GPU when torch sees one.
DEFAULT_DEVICE = "auto"


@dataclass(frozen=True)
class PreparedMethod:
    """A registered method with its options resolved and its device chosen, not built yet (building may load
    weights, so a worker process builds its own from this)."""

    cls: type[Method]
    plugin: PluginRecord
    #: Every option: the defaults, overridden by the given values converted to the defaults' types.
    options: dict[str, Any]
    #: The options that differ from the defaults: they name the cache folder and enter the cache identity.
    given: dict[str, Any]
    #: Where it runs (:meth:`Method.choose_device`), which is what results record.
    device: str
    #: Said to the user when the device asked for is not the one it runs on (:meth:`Method.device_note`).
    note: str | None = None

    @property
    def id(self) -> str:
        return self.cls.id

    @property
    def row(self) -> str:
        """The method's cache folder and leaderboard row: its id plus its non-default options (``lbp@refine=True``),
        so differently configured runs never mix."""
        if not self.given:
            return self.id
        parts = [f"{k}={self.given[k]}" for k in sorted(self.given)]
        return f"{self.id}@{','.join(parts)}".replace("/", "_")

    def build(self) -> Method:
        """A new instance on :attr:`device`; a plugin's constructor failing is reported as one line."""
        try:
            return self.cls(device=self.device, config=self.options)
        except DbdbenchError:
            raise
        except Exception as exc:
            raise DbdbenchError(f"method {self.id!r} failed to initialise: {one_line(exc)}") from None

    def record(self, **fields: Any) -> dict[str, Any]:
        """The method as results and timing records describe it: its class's description, the resolved options
        and its plugin, then ``fields`` (the instance's provenance and what the caller adds) in the order given."""
        record = self.cls.describe()
        record.update(options=self.options, plugin=self.plugin.name, plugin_version=self.plugin.version, **fields)
        return record


def prepare_method(
    method_id: str, options: Mapping[str, Any] | None = None, device: str = DEFAULT_DEVICE
) -> PreparedMethod:
    """Look up ``method_id``, resolve ``options`` (``--option`` strings are converted) and choose the device.

    Refuses an unknown method, option or device here, before any image is read.
    """
    registry = get_registry()
    cls = registry.method(method_id)
    resolved = resolve_options(method_id, options or {}, cls.options)
    given = {k: v for k, v in resolved.items() if v != cls.options.get(k)}
    return PreparedMethod(
        cls=cls,
        plugin=registry.method_plugin(method_id),
        options=resolved,
        given=given,
        device=cls.choose_device(device),
        note=cls.device_note(device),
    )
