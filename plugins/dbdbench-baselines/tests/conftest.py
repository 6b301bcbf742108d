import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]


def shared_data() -> Path:
    env = os.environ.get("DBDBENCH_SHARED")
    return Path(env) / "data" if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared():
    root = shared_data()
    if not (root / "cuhk" / "image").is_dir():
        pytest.skip(f"shared data not found at {root}")
    return root


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
