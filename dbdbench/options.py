"""Method options: the defaults a method declares, and values from the command line converted to their types.

``--option stride=4`` arrives as the string ``"4"``; the method's default (an int) says what it must become, so
methods never parse strings themselves and a mistyped value is refused before any image is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import DbdbenchError


def resolve_options(
    method_id: str, given: Mapping[str, Any], defaults: Mapping[str, Any], *, owner: str | None = None
) -> dict[str, Any]:
    """``defaults`` overridden by ``given``, each value converted to its default's type; an unknown key is refused
    with the known ones. ``owner`` names what has these options in that message (default: the method)."""
    config = dict(defaults)
    for key, value in given.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise DbdbenchError(f"{owner or f'method {method_id!r}'} has no option {key!r} (options: {known})")
        config[key] = coerce_option(method_id, key, value, defaults[key])
    return config


def coerce_option(method_id: str, key: str, value: Any, default: Any) -> Any:
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    try:
        if isinstance(default, bool):
            lowered = value.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, (tuple, list)):
            kind = type(default[0]) if default else str
            return type(default)(kind(v) for v in value.split(","))
    except ValueError:
        raise DbdbenchError(
            f"method {method_id!r}: option {key}={value!r} is not a valid {type(default).__name__}"
        ) from None
    return value


def parse_option_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """Parse ``key=value`` strings from ``--option``."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise DbdbenchError(f"--option {pair!r}: expected key=value")
        out[key.strip()] = value.strip()
    return out
