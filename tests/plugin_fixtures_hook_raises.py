"""A plugin that imports fine but whose hook raises."""

from dbdbench import hookimpl


@hookimpl
def register_methods(register):
    raise ValueError("this plugin is broken inside its hook")
