"""Fixtures of the baselines' tests. The shared research data is located by the repository's root
conftest.py (``real_shared``, ``derived``, ``shared``); re-exported here so that these tests also find them
when pytest is started on this folder (this distribution's own pytest settings then make it the rootdir)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location(
    "dbdbench_root_conftest", Path(__file__).resolve().parents[3] / "conftest.py"
)
_root = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _root  # registered first: the root conftest's dataclasses look their module up
_spec.loader.exec_module(_root)
real_shared, derived, shared = _root.real_shared, _root.derived, _root.shared


@pytest.fixture(scope="session")
def synthetic_pair():
    """A 96x128 photo whose left half is sharp texture and right half the same texture blurred."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    tex = rng.random((96, 128, 3))
    tex = ndimage.zoom(tex, (1, 1, 1), order=1)
    blurred = np.stack([ndimage.gaussian_filter(tex[..., c], 3.0) for c in range(3)], axis=2)
    img = tex.copy()
    img[:, 64:] = blurred[:, 64:]
    img = (img - img.min()) / (img.max() - img.min())
    gt = np.zeros((96, 128), bool)
    gt[:, :64] = True
    return (img * 255).astype(np.uint8), gt
