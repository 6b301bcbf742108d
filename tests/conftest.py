"""Fixtures of the core's tests. The shared research data is located by the repository's root conftest.py
(``shared``, ``real_shared``, ``derived``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Keep tests away from the user's cache and data folders."""
    monkeypatch.setenv("DBDBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DBDBENCH_DATA", raising=False)
    monkeypatch.delenv("DBDBENCH_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("DBDBENCH_LOAD_PLUGINS", raising=False)
    from dbdbench.plugins import reset_registry

    reset_registry()
    yield
    reset_registry()
