"""8. Resources: scoring streams, so its memory does not grow with the number of maps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .log import case

REPO = Path(__file__).resolve().parents[2]


def test_scoring_memory_is_flat(tmp_path, shared, fake_cli):
    """Peak RSS of scoring does not grow with the number of maps (a small version of benchmarks/bench_memory.py)."""
    c = case(
        "resources",
        "peak RSS scoring 40 vs 400 CUHK HiFST maps",
        "python benchmarks/bench_memory.py --sizes 40,400",
        "peak RSS of 400 maps within 15% + 15 MiB of 40 maps",
    )
    out = tmp_path / "memory.json"
    script = REPO / "benchmarks" / "bench_memory.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--sizes", "40,400", "--data", str(shared), "--out", str(out)],
        env=fake_cli.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["n_maps"]: r for r in json.loads(out.read_text())["runs"]}
    small, large = rows[40]["peak_rss_mib"], rows[400]["peak_rss_mib"]
    assert large <= small * 1.15 + 15, (small, large)
    c.ok(f"40 maps: {small:.0f} MiB, 400 maps: {large:.0f} MiB")
