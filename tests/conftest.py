"""Shared fixtures: where the third-party data lives (used by path, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_data() -> Path:
    env = os.environ.get("DBDBENCH_SHARED")
    return (Path(env) if env else REPO.parent / "shared") / "data"


@pytest.fixture
def shared():
    path = shared_data()
    if not (path / "cuhk" / "gt").is_dir():
        pytest.skip(f"shared research data not found at {path} (set DBDBENCH_SHARED)")
    return path


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
