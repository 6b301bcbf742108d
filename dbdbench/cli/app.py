"""The ``dbdbench`` command group and its entry point.

Every user-facing failure is one line on stderr and a non-zero exit code;
``--debug`` (or ``DBDBENCH_DEBUG=1``) shows the traceback instead. Commands
live in sibling modules, one per command group, and attach themselves to
:data:`cli` when :mod:`dbdbench.cli` is imported.
"""

from __future__ import annotations

import os
import sys

import click

from .. import __version__
from ..errors import DbdbenchError
from .common import err_console

EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


class DbdbenchGroup(click.Group):
    """Adds plugin commands lazily, so a broken plugin cannot break ``--help``."""

    _plugins_added = False

    def _add_plugin_commands(self):
        if self._plugins_added:
            return
        self._plugins_added = True
        try:
            from ..plugins import get_registry

            manager = get_registry().manager
            hookimpls = manager.hook.register_commands.get_hookimpls() if manager is not None else []
            for impl in hookimpls:
                try:
                    impl.function(cli=self)
                except Exception as exc:
                    err_console().print(f"warning: plugin {impl.plugin_name!r} failed to add commands: {exc}")
        except DbdbenchError:
            pass

    def list_commands(self, ctx):
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        self._add_plugin_commands()
        return super().get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        """One full sentence per command, wrapped rather than cut: click would end a long docstring's first line
        with "..." mid-sentence. Commands set ``short_help``; a plugin command without one shows its first sentence."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, _one_liner(cmd)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _one_liner(cmd: click.Command) -> str:
    if cmd.short_help:
        return " ".join(cmd.short_help.split())
    text = " ".join((cmd.help or "").split("\n\n", 1)[0].split())
    end = text.find(". ")
    return text[: end + 1] if end >= 0 else text


@click.group(cls=DbdbenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbdbench")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx, debug):
    """dbdbench: comparable defocus blur detection benchmarks."""
    if debug:
        os.environ["DBDBENCH_DEBUG"] = "1"
    from .common import install_progress

    install_progress()  # long library phases (generating a synth split) draw a progress bar on stderr


def main(argv=None):
    """Entry point: turns every failure into one line on stderr and an exit code."""
    debug = os.environ.get("DBDBENCH_DEBUG", "") not in ("", "0") or "--debug" in (argv or sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="dbdbench", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        err_console().print("interrupted; maps already written are kept, re-run to resume")
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DbdbenchError as exc:
        if debug:
            raise
        err_console().print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:
        # A file-system problem the user can act on (output path is a file, disk full, read-only, no permission):
        # name the file and the problem. An OSError that names no file and is not about the disk is a bug.
        import errno

        about_disk = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
        if debug:
            raise
        if exc.filename is None and not about_disk:
            _internal_error(exc)
        where = f"{exc.filename}: " if exc.filename is not None else ""
        err_console().print(f"error: {where}{exc.strerror or exc}")
        sys.exit(DbdbenchError.exit_code)
    except Exception as exc:
        if debug:
            raise
        _internal_error(exc)


def _internal_error(exc: BaseException):
    """A bug in dbdbench or a plugin: one line naming the exception, exit 1."""
    detail = str(exc).strip().splitlines()
    err_console().print(
        f"error: internal error ({type(exc).__name__}: {detail[0] if detail else ''}); re-run with --debug for the traceback"
    )
    sys.exit(EXIT_INTERNAL)
