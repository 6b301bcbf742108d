"""A second plugin registering an id that plugin_fixtures already registered."""

from plugin_fixtures import LocalContrast

from dbdbench import hookimpl


@hookimpl
def register_methods(register):
    register(LocalContrast)
