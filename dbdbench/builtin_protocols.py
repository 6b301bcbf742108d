"""Registers the built-in scoring protocols through the public hook, like any plugin."""

from .hookspecs import hookimpl


@hookimpl
def register_protocols(register):
    from .protocols import PROTOCOLS

    for protocol in PROTOCOLS.values():
        register(protocol)
