"""Fixtures shared by the core's and the plugins' tests: the one place that locates the research data, and the
one way tests run the command line (``dbdbench_cli``).

The third-party data lives outside the repository: ``$DBDBENCH_SHARED/data``, else ``../shared/data``
next to the checkout. Where it is absent (a fresh clone, CI), ``shared`` is a stand-in rebuilt from the
committed derived fixtures (``tests/fixtures/``: counts and names, never pixels), on which every metric
scores exactly as on the real data, so the headline checks run everywhere instead of being skipped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
TESTS = REPO / "tests"
FIXTURES = TESTS / "fixtures"
#: Switches a developer may have set that would change what the command line prints.
_DEVELOPER_SWITCHES = ("DBDBENCH_DEBUG", "DBDBENCH_STRICT_PLUGINS", "DBDBENCH_FAKE_SLEEP")


def shared_data_dir() -> Path:
    """``$DBDBENCH_SHARED/data``, else ``<repo>/../shared/data`` (it may not exist)."""
    env = os.environ.get("DBDBENCH_SHARED")
    return (Path(env).expanduser() if env else REPO.parent / "shared") / "data"


def _derived_module():
    spec = importlib.util.spec_from_file_location("dbdbench_test_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def real_shared() -> Path | None:
    """The real shared data folder, or None when this checkout has none."""
    path = shared_data_dir()
    return path if (path / "cuhk" / "gt").is_dir() else None


@pytest.fixture(scope="session")
def derived():
    """``tests/fixtures/make_fixtures.py`` as a module: ``load()``, ``build_standin()``, ``pearson_from_joint()``,
    ``fingerprint_map()``."""
    return _derived_module()


@pytest.fixture(scope="session")
def shared(real_shared, derived, tmp_path_factory) -> Path:
    """The research data folder: the real one, or the stand-in rebuilt from the derived fixtures."""
    if real_shared is not None:
        return real_shared
    return derived.build_standin(tmp_path_factory.mktemp("shared-standin") / "data")


class CliResult(subprocess.CompletedProcess):
    """What one ``dbdbench`` command did, with the two outcomes the command line promises checked in one place."""

    def succeeded(self) -> dict:
        """Exit 0, no traceback, every stderr line a one-line note; the JSON on stdout (``{}`` when none)."""
        assert self.returncode == 0, f"exit {self.returncode}; stderr:\n{self.stderr}"
        assert "Traceback" not in self.stderr, self.stderr
        for line in self.stderr.splitlines():
            assert (
                line.startswith(("warning:", "maps and results", "skipped ", "wrote "))
                or " GT images had no map" in line
                or not line.strip()
            ), self.stderr
        return json.loads(self.stdout) if self.stdout.lstrip().startswith("{") else {}

    def error_line(self, *needles: str, code: int = 2) -> str:
        """A clean failure: exit ``code``, no traceback, exactly one ``error:`` line, which contains every needle."""
        err = self.stderr
        assert self.returncode == code, f"exit {self.returncode}, expected {code}; stderr:\n{err}"
        assert "Traceback" not in err, err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("error:")]
        assert len(errors) == 1, f"expected one error line, got:\n{err}"
        others = [ln for ln in lines if not ln.startswith(("error:", "warning:"))]
        assert not others, f"unexpected stderr lines (wrapped or stray output):\n{err}"
        for needle in needles:
            assert needle in errors[0], f"{needle!r} not in {errors[0]!r}"
        return errors[0]


@dataclasses.dataclass(frozen=True)
class Cli:
    """``dbdbench`` as a user runs it, in a fresh interpreter, with the test plugins ``plugins`` (modules under
    ``tests/``, comma-separated) loaded on top of the installed ones.

    ``installed_plugins=False`` loads only ``plugins`` (and the built-in datasets): suites of many small calls that
    test nothing of the installed plugins skip importing them (scipy, skimage), about 0.3 s a call. ``check``
    makes a non-zero exit an assertion error with the command's stderr. ``environment`` is set for every call;
    more variables go as keyword arguments of one call: ``cli("run", ..., DBDBENCH_CACHE=str(path))``.
    """

    plugins: str = ""
    installed_plugins: bool = True
    check: bool = True
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def but(self, **changes) -> Cli:
        """The same command line with other settings: ``cli.but(plugins="a,b", check=False)``."""
        return dataclasses.replace(self, **changes)

    def env(self, plugins: str | None = None, **extra: str) -> dict[str, str]:
        """The environment a call gets: this process's, without developer switches, with ``tests/`` importable."""
        env = {k: v for k, v in os.environ.items() if k not in _DEVELOPER_SWITCHES}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), str(REPO), os.environ.get("PYTHONPATH")]))
        env["DBDBENCH_EXTRA_PLUGINS"] = self.plugins if plugins is None else plugins
        if not self.installed_plugins:
            env["DBDBENCH_LOAD_PLUGINS"] = "none"
        env["PYTHONIOENCODING"] = "utf-8"
        env.update(self.environment)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    @staticmethod
    def argv(*args) -> list[str]:
        """The command line of ``dbdbench ARGS`` in this interpreter (for ``subprocess.Popen``)."""
        return [sys.executable, "-m", "dbdbench", *map(str, args)]

    def __call__(
        self, *args, cwd: Path | None = None, check: bool | None = None, timeout: float = 300, plugins=None, **env
    ) -> CliResult:
        proc = subprocess.run(
            self.argv(*args),
            cwd=cwd,
            env=self.env(plugins, **env),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )
        result = CliResult(proc.args, proc.returncode, proc.stdout, proc.stderr)
        if (self.check if check is None else check) and result.returncode != 0:
            raise AssertionError(f"dbdbench {' '.join(map(str, args))}: exit {result.returncode}: {result.stderr}")
        return result

    def in_process(self, monkeypatch, *args, plugins: str | None = None) -> CliResult:
        """The same command through ``dbdbench.cli.main`` in this process, with the environment a call would get.

        For argument handling and one-line errors a fresh interpreter proves nothing more, and each costs about
        half a second; what is about the process itself (exit on signals, resume after a kill, no traceback from
        an unexpected failure) keeps using a real one.
        """
        from dbdbench.cli import main
        from dbdbench.plugins import reset_registry

        for key, value in self.env(plugins).items():
            monkeypatch.setenv(key, value)
        monkeypatch.syspath_prepend(str(TESTS))
        reset_registry()
        out, err = io.StringIO(), io.StringIO()
        code = 0
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            reset_registry()
        return CliResult(list(args), code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def dbdbench_cli() -> Cli:
    """The command line with the installed plugins only; a non-zero exit fails the test (``check=False`` per call
    or ``.but(check=False)`` to look at failures)."""
    return Cli()
