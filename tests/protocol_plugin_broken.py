"""Protocol plugins that are broken in each way ``register_protocols`` must contain (tests/test_protocol_hook.py)."""

from dataclasses import replace

from dbdbench import hookimpl
from dbdbench.protocols import PROTOCOLS, Protocol


class NotAProtocol:
    @staticmethod
    @hookimpl
    def register_protocols(register):
        register({"name": "dict-protocol", "positive": "blur"})


class BadOption:
    @staticmethod
    @hookimpl
    def register_protocols(register):
        register(Protocol(name="sideways", description="a class that does not exist", positive="sideways"))


class BadName:
    @staticmethod
    @hookimpl
    def register_protocols(register):
        register(Protocol(name="My Protocol", description="not an id"))


class UnknownMetric:
    @staticmethod
    @hookimpl
    def register_protocols(register):
        register(Protocol(name="unknown-metric", description="x", source_metrics=("f_max", "accuracy")))


class RaisesHalfway:
    @staticmethod
    @hookimpl
    def register_protocols(register):
        register(Protocol(name="first-of-two", description="registered, then the hook fails"))
        raise RuntimeError("this protocol plugin is broken inside its hook")


class TakesBuiltinName:
    @staticmethod
    @hookimpl
    def register_protocols(register):
        register(replace(PROTOCOLS["dbd"], description="a second 'dbd'"))
