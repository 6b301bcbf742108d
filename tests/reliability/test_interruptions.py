"""5. Interruptions and 6. concurrency: a killed run keeps its maps and resumes to the uninterrupted result; a map
torn from outside is named; two runs into one folder both finish with the same result."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from .harness import folder_run, maps_of, same_scores, valid_pngs
from .log import case, short


def _wait_for_maps(folder: Path, n: int, proc: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = len(list(folder.glob("*.png"))) if folder.is_dir() else 0
        if count >= n or proc.poll() is not None:
            return count
        time.sleep(0.02)
    return -1


def _popen(fake_cli, args: tuple, sleep: str, **kwargs) -> subprocess.Popen:
    """``dbdbench ARGS`` started in the background, each fake-slow prediction taking ``sleep`` seconds."""
    return subprocess.Popen(
        fake_cli.argv(*args),
        env=fake_cli.env(DBDBENCH_FAKE_SLEEP=sleep),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        **kwargs,
    )


@pytest.mark.parametrize(
    "sig,workers", [(signal.SIGINT, 1), (signal.SIGKILL, 1), (signal.SIGINT, 2), (signal.SIGKILL, 2)]
)
def test_interrupt_and_resume(tmp_path, reference, fake_cli, sig, workers):
    name = signal.Signals(sig).name
    c = case(
        "interruption",
        f"{name} mid-run (--workers {workers}), then re-run",
        f"dbdbench run --method fake-slow --workers {workers} ...; kill -{name[3:]} after 3 maps; re-run",
        "killed run keeps its maps (no torn files); re-run resumes (reuses them) and equals an uninterrupted run",
    )
    out = tmp_path / "runs"
    args = reference["data"].run_args("fake-slow", "--workers", workers, "--json", out=out)
    # A shell that starts jobs in the background (nohup ... &, some CI launchers) hands them SIGINT *ignored*,
    # and Python then never raises KeyboardInterrupt: give the child the default disposition a terminal would.
    proc = _popen(fake_cli, args, "0.4", preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # The same images as the reference run, so the same run folder name (it follows the dataset's location).
    folder = out / "fake-slow" / folder_run(reference["root"] / "runs" / "fake-slow").name / "maps"
    written = _wait_for_maps(folder, 3, proc)
    assert written >= 3 and proc.poll() is None, f"run finished or stalled before the kill ({written} maps)"
    proc.send_signal(sig)
    # communicate() returns only once every process holding the pipes is gone: the pool's workers included,
    # so a SIGKILLed parent must not leave orphaned workers behind.
    _, err = proc.communicate(timeout=30)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, (proc.returncode, err)
        assert "Traceback" not in err and "interrupted" in err, err
    else:
        assert proc.returncode == -signal.SIGKILL
    survivors = valid_pngs(folder)  # every file that is there decodes: no torn map
    assert len(survivors) >= 3  # (with --workers 2, tasks already queued to the pool still finish after Ctrl-C)
    result = fake_cli(*args, DBDBENCH_FAKE_SLEEP="0").succeeded()
    assert result["run"]["maps_reused"] >= len(survivors)
    same_scores(result, folder_run(out / "fake-slow"), reference)
    lost = sum(1 for s, arr in survivors.items() if not np.array_equal(valid_pngs(folder)[s], arr))
    c.ok(
        f"killed: exit {proc.returncode}, {len(survivors)} valid maps kept; re-run: reused {result['run']['maps_reused']}, "
        "metrics + per-image rows + maps identical to the uninterrupted run",
        lost,
    )


def test_corrupt_cached_map_is_reported(tmp_path, reference, fake_cli):
    """A map torn by something outside dbdbench (a copy, a full disk) is named, not silently scored."""
    out = tmp_path / "runs"
    shutil.copytree(reference["root"] / "runs", out)
    folder = maps_of(out, "fake-slow")
    data = (folder / "im03.png").read_bytes()
    (folder / "im03.png").write_bytes(data[: len(data) // 2])
    c = case(
        "interruption",
        "a cached map torn outside dbdbench, then re-run",
        "dbdbench run --method fake-slow ... (maps/im03.png truncated)",
        "exit 2 naming the map and suggesting --force; --force recomputes and equals the reference",
    )
    args = reference["data"].run_args("fake-slow", "--json", out=out)
    line = fake_cli(*args, DBDBENCH_FAKE_SLEEP="0").error_line("im03.png", "truncated")
    result = fake_cli(*args, "--force", DBDBENCH_FAKE_SLEEP="0").succeeded()
    same_scores(result, folder_run(out / "fake-slow"), reference)
    c.ok(f"exit 2: {short(line)} | --force: identical to reference")


def test_two_runs_same_output(tmp_path, reference, fake_cli):
    """Maps and results are written atomically (a temporary file, then a rename), so two runs racing on one
    folder both finish, and every file left is whole."""
    c = case(
        "concurrency",
        "two `run` processes writing the same output folder at once",
        "dbdbench run --method fake-slow --out SAME & dbdbench run --method fake-slow --out SAME",
        "both exit 0; every map decodes; results equal an uninterrupted run",
    )
    out = tmp_path / "runs"
    args = reference["data"].run_args("fake-slow", "--json", out=out)
    procs = [_popen(fake_cli, args, "0.05") for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (stdout, stderr) in zip(procs, outputs):
        assert p.returncode == 0 and "Traceback" not in stderr, stderr
        assert json.loads(stdout)["metrics"] == reference["result"]["metrics"]
    run_dir = folder_run(out / "fake-slow")
    same_scores(json.loads((run_dir / "result.json").read_text()), run_dir, reference)
    leftovers = [p.name for p in run_dir.rglob(".*.tmp")]
    assert not leftovers, leftovers
    c.ok("both exit 0; 8 valid maps; result.json/per_image.csv identical to reference; no temp files left")
