"""Small synth splits in a private cache, shared by the selfgen tests (generated once per session)."""

from __future__ import annotations

import pytest

SIZE = 64
N = 8


@pytest.fixture(scope="session")
def synth_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("selfgen-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBDBENCH_CACHE", str(cache))
        from dbdbench.datasets.synth import ensure_split

        for split in ("train", "fc", "fb"):
            ensure_split(split, n=N, seed=0, size=SIZE, workers=1)
    return cache


@pytest.fixture
def tiny(synth_cache, monkeypatch):
    """Environment and options for a few-second training run on the tiny splits."""
    monkeypatch.setenv("DBDBENCH_CACHE", str(synth_cache))
    from dbdbench.plugins import reset_registry

    reset_registry()
    yield {
        "dataset_options": {"n": N, "size": SIZE},
        "options": {
            "crop": "32",
            "pool_n": str(N),
            "pool_size": str(SIZE),
            "val_split": "",
            "holdout": "2",
            "checkpoint_every": "1",
        },
    }
    reset_registry()
