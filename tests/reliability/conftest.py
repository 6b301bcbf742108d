"""The reliability suite's fixtures: the case report, and one uninterrupted reference run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .harness import folder_run, read_per_image, valid_pngs
from .log import write_report


@pytest.fixture(scope="session", autouse=True)
def _report():
    """Write the case table to ``$DBDBENCH_RELIABILITY_REPORT`` once every case has run."""
    yield
    target = os.environ.get("DBDBENCH_RELIABILITY_REPORT")
    if target:
        write_report(Path(target))


@pytest.fixture(scope="session")
def reference(tmp_path_factory, fake_cli, marked_photos):
    """An uninterrupted fake-slow run on 8 images, and its maps, to compare resumed and concurrent runs against."""
    root = tmp_path_factory.mktemp("reference")
    data = marked_photos.folder(root, n=8)
    proc = fake_cli(*data.run_args("fake-slow", "--json", out=root / "runs"), DBDBENCH_FAKE_SLEEP="0")
    result = proc.succeeded()
    run_dir = folder_run(root / "runs" / "fake-slow")
    return {
        "root": root,
        "data": data,
        "result": result,
        "per_image": read_per_image(run_dir / "per_image.csv"),
        "maps": valid_pngs(run_dir / "maps"),
    }
