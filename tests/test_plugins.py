"""The plugin system: built-ins go through the hooks, failures are contained, duplicates are refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dbdbench.errors import PluginError
from dbdbench.plugins import build_registry

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


@pytest.fixture
def extra(monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))

    def use(*modules):
        monkeypatch.setenv("DBDBENCH_EXTRA_PLUGINS", ",".join(modules))
        return build_registry()

    return use


def test_builtin_datasets_register_through_the_hook():
    reg = build_registry()
    builtin = next(p for p in reg.plugins if p.name == "dbdbench.datasets.builtin")
    assert builtin.status == "loaded" and builtin.source == "builtin"
    assert {"cuhk", "dut", "xu100", "ctcug", "ebd", "folder"} <= set(builtin.datasets)
    assert reg.datasets["cuhk"][1] == "dbdbench.datasets.builtin"


def test_extra_plugin_registers_a_method(extra):
    reg = extra("plugin_fixtures")
    assert reg.method("test-contrast").name.startswith("Local contrast")


def test_duplicate_method_id_names_both_plugins(extra):
    reg = extra("plugin_fixtures", "plugin_fixtures_duplicate")
    with pytest.raises(PluginError, match=r"plugin_fixtures.*and.*plugin_fixtures_duplicate"):
        reg.method("test-contrast")
    record = next(p for p in reg.plugins if p.name == "plugin_fixtures_duplicate")
    assert "registered by both" in record.error


def test_failing_plugins_are_recorded_not_fatal(extra):
    reg = extra("plugin_fixtures_import_fails", "plugin_fixtures_hook_raises", "plugin_fixtures")
    status = {p.name: (p.status, p.error) for p in reg.plugins}
    assert status["plugin_fixtures_import_fails"][0] == "failed"
    assert "dependency of this plugin is missing" in status["plugin_fixtures_import_fails"][1]
    assert status["plugin_fixtures_hook_raises"][0] == "failed"
    assert "broken inside its hook" in status["plugin_fixtures_hook_raises"][1]
    assert reg.method("test-contrast")  # the healthy plugin still works


def test_strict_mode_turns_failures_into_errors(extra, monkeypatch):
    monkeypatch.setenv("DBDBENCH_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="plugin_fixtures_import_fails"):
        extra("plugin_fixtures_import_fails")


def test_load_plugins_filter_limits_entry_points(monkeypatch):
    monkeypatch.setenv("DBDBENCH_LOAD_PLUGINS", "")
    reg = build_registry()
    assert all(p.source == "builtin" for p in reg.plugins)


def test_register_rejects_non_methods(extra, tmp_path, monkeypatch):
    (tmp_path / "plugin_fixtures_not_a_class.py").write_text(
        "from dbdbench import hookimpl\n@hookimpl\ndef register_methods(register):\n    register(object)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = extra("plugin_fixtures_not_a_class")
    record = next(p for p in reg.plugins if p.name == "plugin_fixtures_not_a_class")
    assert record.status == "failed" and "Method subclass" in record.error


def test_cli_survives_a_broken_plugin(dbdbench_cli):
    cli = dbdbench_cli.but(plugins="plugin_fixtures_import_fails,plugin_fixtures")
    rows = {r["name"]: r for r in json.loads(cli("plugins", "--json").stdout)}
    assert rows["plugin_fixtures_import_fails"]["status"] == "failed"
    proc = cli("list", "methods", "--json")
    assert "test-contrast" in {m["id"] for m in json.loads(proc.stdout)}
    assert "plugin_fixtures_import_fails" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_strict_mode_fails_in_one_line(dbdbench_cli):
    proc = dbdbench_cli(
        "list", "methods", plugins="plugin_fixtures_import_fails", check=False, DBDBENCH_STRICT_PLUGINS="1"
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_core_never_imports_torch():
    code = (
        "import sys, dbdbench.cli, dbdbench.api, dbdbench.plugins;"
        "dbdbench.plugins.get_registry();"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    hits = [p for p in (REPO / "dbdbench").rglob("*.py") if "import torch" in p.read_text()]
    # devices.resolve_device imports torch lazily inside the function, only for learned methods
    assert [p.name for p in hits] == ["devices.py"]
