"""A second plugin registering an id that plugin_fixtures already registered."""

from dbdbench import hookimpl
from plugin_fixtures import LocalContrast


@hookimpl
def register_methods(register):
    register(LocalContrast)
