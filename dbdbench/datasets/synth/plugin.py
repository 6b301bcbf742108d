"""Registers the ``synth`` dataset and the ``dbdbench synth`` command through the ordinary plugin hooks.

Importing this module is cheap: the adapter and command import rendering code lazily.
"""

from __future__ import annotations

from ...hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    from .adapter import SynthDataset

    register(SynthDataset)


@hookimpl
def register_commands(cli):
    from .command import synth_command

    cli.add_command(synth_command)
