"""Fixtures shared by the core's and the plugins' tests: the one place that locates the research data.

The third-party data lives outside the repository: ``$DBDBENCH_SHARED/data``, else ``../shared/data``
next to the checkout. Where it is absent (a fresh clone, CI), ``shared`` is a stand-in rebuilt from the
committed derived fixtures (``tests/fixtures/``: counts and names, never pixels), on which every metric
scores exactly as on the real data, so the headline checks run everywhere instead of being skipped.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
FIXTURES = REPO / "tests" / "fixtures"


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
