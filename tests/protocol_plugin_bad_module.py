"""A protocol plugin whose hook registers an invalid protocol: reported by 'dbdbench plugins', never fatal."""

from dbdbench import hookimpl
from dbdbench.protocols import Protocol


@hookimpl
def register_protocols(register):
    register(Protocol(name="bad-aggregation", description="an aggregation that does not exist", aggregation="median"))
