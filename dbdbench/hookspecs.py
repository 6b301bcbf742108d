"""The hooks a dbdbench plugin may implement, and the two pluggy markers. Nothing else lives here.

A plugin is any module or package exposed under the ``dbdbench`` entry-point
group whose functions are decorated with :data:`hookimpl`, imported from the
package, its one public name (the built-in modules import it from here)::

    from dbdbench import hookimpl

    @hookimpl
    def register_methods(register):
        register(MyMethod)

Built-in datasets register through exactly these hooks too, so a third-party
plugin is never a second-class citizen.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("dbdbench")
hookimpl = pluggy.HookimplMarker("dbdbench")


@hookspec
def register_methods(register):
    """Register method classes: call ``register(cls)`` once per :class:`dbdbench.methods.Method` subclass.

    Register the class, not an instance: instances are built only when a method
    runs, so heavy imports (torch, weights) never slow down ``dbdbench --help``.
    """


@hookspec
def register_datasets(register):
    """Register dataset adapters: call ``register(cls)`` once per :class:`dbdbench.datasets.Dataset` subclass."""


@hookspec
def register_protocols(register):
    """Register scoring protocols: call ``register(protocol)`` once per :class:`dbdbench.protocols.Protocol` instance.

    A protocol is a frozen preset of scoring options (which class is positive, how the GT is binarised, resizing,
    thresholds, aggregation) plus what it reproduces (``source``, ``source_metrics``, ``expects``). Its ``name`` is
    what ``--protocol`` takes; the built-in presets (``dbd``, ``sod``, ...) arrive through this hook too.
    """


@hookspec
def register_trainers(register):
    """Register training for learned methods: call ``register(method_id, train)`` once per trainable method.

    ``train(request)`` receives a :class:`dbdbench.training.TrainRequest` (dataset adapter, split, options,
    step budget, device, output folder, resume flag, seed, a progress callback) and returns a summary dict.
    ``dbdbench train`` only parses and dispatches; torch is imported inside ``train``, never at plugin import.
    """


@hookspec
def register_commands(cli):
    """Add extra click commands to the ``dbdbench`` command group (``cli.add_command(...)``)."""
