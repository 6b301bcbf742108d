"""A plugin that adds a scoring protocol through ``register_protocols``, loaded with DBDBENCH_EXTRA_PLUGINS."""

from dbdbench import hookimpl
from dbdbench.protocols import Protocol

POOLED_BLUR = Protocol(
    name="test-pooled-blur",
    description="Test protocol: blurred pixels positive, GT > 127, F at 0.5 pooled over every pixel.",
    positive="blur",
    resize="none",
    aggregation="pixel",
    source="tests/protocol_plugin.py",
    source_metrics=("mae", "f_fixed", "iou"),
    expects="maps at GT resolution",
)


@hookimpl
def register_protocols(register):
    register(POOLED_BLUR)
