"""The plugin manager: loads built-in and third-party plugins and collects what they register.

Every plugin, built in or installed, goes through the same hooks
(:mod:`dbdbench.hookspecs`). Loading is defensive: a plugin that fails to
import, or whose hook raises, is recorded with its error and skipped, so one
broken install never takes the CLI down. ``DBDBENCH_STRICT_PLUGINS=1`` turns
those records into a hard failure (for CI), and ``DBDBENCH_LOAD_PLUGINS``
(comma-separated entry-point names; empty = none) limits which third-party
plugins load at all. ``DBDBENCH_EXTRA_PLUGINS`` (comma-separated importable
module names) loads modules as plugins without packaging them: handy for a
method under development and for tests.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from . import hookspecs
from .errors import DbdbenchError, PluginError

if TYPE_CHECKING:
    from .datasets.base import Dataset
    from .methods import Method
    from .protocols import Protocol

_T = TypeVar("_T")

ENTRY_POINT_GROUP = "dbdbench"
#: Built-in modules that register through the hooks exactly like external plugins.
BUILTIN_PLUGINS = ("dbdbench.builtin_protocols", "dbdbench.datasets.builtin", "dbdbench.datasets.synth.plugin")
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass
class PluginRecord:
    name: str
    source: str  # "builtin" or the distribution that declared the entry point
    version: str | None = None
    status: str = "loaded"  # loaded | failed | skipped (the same module already loaded under another name)
    error: str | None = None
    methods: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    trainers: list[str] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Registry:
    """Everything the plugins registered, by id, with the plugin each came from."""

    plugins: list[PluginRecord] = field(default_factory=list)
    methods: dict[str, tuple[type[Method], str]] = field(default_factory=dict)
    datasets: dict[str, tuple[type[Dataset], str]] = field(default_factory=dict)
    #: method id -> (train callable, plugin name), from ``register_trainers``.
    trainers: dict[str, tuple[Callable[..., Any], str]] = field(default_factory=dict)
    #: protocol name -> (the frozen Protocol, plugin name), from ``register_protocols``, in registration order.
    protocols: dict[str, tuple[Protocol, str]] = field(default_factory=dict)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    #: The pluggy manager, for hooks called later (``register_commands`` when the CLI builds its commands).
    manager: pluggy.PluginManager | None = field(default=None, repr=False)

    def method(self, method_id: str) -> type[Method]:
        return self._lookup("method", method_id, self.methods)

    def dataset(self, name: str) -> type[Dataset]:
        return self._lookup("dataset", name, self.datasets)

    def protocol(self, name: str) -> Protocol:
        return self._lookup("protocol", name, self.protocols)

    def trainer(self, method_id: str) -> Callable[..., Any]:
        """The training entry point of a method; a clear error for unknown or untrainable methods."""
        self.method(method_id)  # unknown ids fail with the usual message
        if method_id not in self.trainers:
            trainable = ", ".join(sorted(self.trainers)) or "none"
            raise DbdbenchError(f"method {method_id!r} cannot be trained (trainable methods: {trainable})")
        return self.trainers[method_id][0]

    def method_plugin(self, method_id: str) -> PluginRecord:
        name = self.methods[method_id][1]
        return next(p for p in self.plugins if p.name == name)

    def _lookup(self, kind: str, key: str, table: dict[str, tuple[_T, str]]) -> _T:
        dup = self.duplicates.get(f"{kind}:{key}")
        if dup:
            raise PluginError(f"{kind} id {key!r} is registered by more than one plugin: {' and '.join(dup)}")
        if key not in table:
            known = ", ".join(table if kind == "protocol" else sorted(table)) or "none"
            failed = [p.name for p in self.plugins if p.status == "failed"]
            hint = f"; plugins that failed to load: {', '.join(failed)} (see 'dbdbench plugins')" if failed else ""
            raise DbdbenchError(f"unknown {kind} {key!r} (available: {known}){hint}")
        return table[key][0]

    def failures(self) -> list[PluginRecord]:
        return [p for p in self.plugins if p.status == "failed"]


def _strict() -> bool:
    return os.environ.get("DBDBENCH_STRICT_PLUGINS", "").strip() not in {"", "0", "false", "no"}


def _allowed() -> set[str] | None:
    raw = os.environ.get("DBDBENCH_LOAD_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _identity(module: Any) -> Any:
    return module


def one_line(exc: BaseException) -> str:
    """Plugin code that raised, said in one line (``OSError: weights file not found``): the first line of the
    message after the exception's type, so a traceback-sized message never floods a one-line error."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def build_registry(extra_plugins: list[tuple[str, Any]] | None = None) -> Registry:
    """Load all plugins and collect their registrations. ``extra_plugins`` is for tests."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    reg = Registry()
    records: dict[str, PluginRecord] = {}

    def add(name: str, source: str, version: str | None, load: Callable[[], Any]) -> None:
        record = PluginRecord(name=name, source=source, version=version)
        records[name] = record
        reg.plugins.append(record)
        try:
            module = load()
            if pm.is_registered(
                module
            ):  # e.g. installed with 'pip install -e' and also named in DBDBENCH_EXTRA_PLUGINS
                record.status, record.error = "skipped", f"already loaded as plugin {pm.get_name(module)!r}"
                return
            pm.register(module, name=name)
        except Exception as exc:
            record.status, record.error = "failed", one_line(exc)

    from . import __version__

    for modname in BUILTIN_PLUGINS:
        add(modname, "builtin", __version__, functools.partial(importlib.import_module, modname))

    allowed = _allowed()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if allowed is not None and ep.name not in allowed:
            continue
        if ep.name in records:
            continue  # the same distribution installed twice on the path
        dist = getattr(ep, "dist", None)
        add(
            ep.name,
            dist.metadata["Name"] if dist is not None else "entry point",
            dist.version if dist is not None else None,
            ep.load,
        )
    for modname in filter(None, (m.strip() for m in os.environ.get("DBDBENCH_EXTRA_PLUGINS", "").split(","))):
        if modname not in records:
            add(modname, "DBDBENCH_EXTRA_PLUGINS", None, functools.partial(importlib.import_module, modname))
    for name, module in extra_plugins or []:
        add(name, "test", None, functools.partial(_identity, module))

    for hook_name, table, kind in (
        ("register_methods", reg.methods, "method"),
        ("register_datasets", reg.datasets, "dataset"),
    ):
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            record = records[impl.plugin_name]
            if record.status == "failed":
                continue
            register = _make_register(reg, record, table, kind)
            try:
                impl.function(register=register)
            except Exception as exc:
                record.status, record.error = "failed", one_line(exc)

    for impl in pm.hook.register_protocols.get_hookimpls():
        record = records[impl.plugin_name]
        if record.status == "failed":
            continue
        staged: dict[str, tuple[Protocol, str]] = {}
        try:
            impl.function(register=_make_protocol_register(reg, record, staged))
        except Exception as exc:
            record.status, record.error = "failed", one_line(exc)
            record.protocols = []
            continue
        reg.protocols.update(staged)  # all or nothing: a plugin whose hook fails adds no protocol

    for impl in pm.hook.register_trainers.get_hookimpls():
        record = records[impl.plugin_name]
        if record.status == "failed":
            continue
        try:
            impl.function(register=_make_trainer_register(reg, record))
        except Exception as exc:
            record.status, record.error = "failed", one_line(exc)

    if _strict() and reg.failures():
        first = reg.failures()[0]
        raise PluginError(f"plugin {first.name!r} failed (DBDBENCH_STRICT_PLUGINS is set): {first.error}")
    reg.manager = pm
    return reg


def _make_register(reg: Registry, record: PluginRecord, table: dict, kind: str) -> Callable[[type], None]:
    from .datasets.base import Dataset
    from .methods import Method

    base = Method if kind == "method" else Dataset
    attr = "id" if kind == "method" else "name"

    def register(cls: type) -> None:
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(f"register: expected a {base.__name__} subclass, got {cls!r}")
        key = getattr(cls, attr, None)
        if not isinstance(key, str) or not _ID_PATTERN.match(key):
            raise PluginError(f"register: {cls.__name__}.{attr} must be a lower-case id, got {key!r}")
        if key in table:
            other = table[key][1]
            reg.duplicates.setdefault(f"{kind}:{key}", [other]).append(record.name)
            msg = f"{kind} id {key!r} is registered by both {other!r} and {record.name!r}"
            if _strict():
                raise PluginError(msg)
            record.error = (record.error + "; " if record.error else "") + msg
            return
        table[key] = (cls, record.name)
        (record.methods if kind == "method" else record.datasets).append(key)

    return register


def _make_trainer_register(reg: Registry, record: PluginRecord) -> Callable[[str, Callable[..., Any]], None]:
    def register(method_id: str, train: Callable[..., Any]) -> None:
        if not isinstance(method_id, str) or not _ID_PATTERN.match(method_id) or not callable(train):
            raise PluginError(f"register_trainers: expected (method id, callable), got ({method_id!r}, {train!r})")
        if method_id in reg.trainers:
            raise PluginError(
                f"trainer for {method_id!r} is registered by both {reg.trainers[method_id][1]!r} and {record.name!r}"
            )
        reg.trainers[method_id] = (train, record.name)
        record.trainers.append(method_id)

    return register


def _make_protocol_register(
    reg: Registry, record: PluginRecord, staged: dict[str, tuple[Protocol, str]]
) -> Callable[[Protocol], None]:
    """``register(protocol)`` for one plugin: checked (a valid, frozen Protocol with a free name) and staged, so a
    hook that raises half-way registers nothing."""
    from .protocols import Protocol

    def register(protocol: Protocol) -> None:
        if not isinstance(protocol, Protocol):
            raise PluginError(f"register_protocols: expected a dbdbench.protocols.Protocol instance, got {protocol!r}")
        name = protocol.name
        if not isinstance(name, str) or not _ID_PATTERN.match(name):
            raise PluginError(f"register_protocols: protocol name must be a lower-case id, got {name!r}")
        protocol.validate()
        if name in reg.protocols or name in staged:
            other = (reg.protocols.get(name) or staged[name])[1]
            reg.duplicates.setdefault(f"protocol:{name}", [other]).append(record.name)
            msg = f"protocol {name!r} is registered by both {other!r} and {record.name!r}"
            if _strict():
                raise PluginError(msg)
            record.error = (record.error + "; " if record.error else "") + msg
            return
        staged[name] = (protocol, record.name)
        record.protocols.append(name)

    return register


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = build_registry()
    return _REGISTRY


def reset_registry() -> None:
    global _REGISTRY
    _REGISTRY = None
