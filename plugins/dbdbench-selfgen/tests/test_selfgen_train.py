"""Training end to end on tiny synth splits: both stages, resume, the no-mask guarantee, ablations, collapse, method."""

from __future__ import annotations

import builtins
import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dbdbench.api import open_dataset
from dbdbench.errors import DbdbenchError
from dbdbench.training import TrainRequest, run_training

LABEL_DIRS = {"gt", "coc", "depth"}  # per-pixel labels of a synth split: none may be read in training


def _request(tiny, out, stage="adversarial", steps=2, **options):
    ds = open_dataset("synth", split="train", options=tiny["dataset_options"])
    opts = dict(tiny["options"], stage=stage, **{k: str(v) for k, v in options.items()})
    return TrainRequest(
        method_id="selfgen", dataset=ds, out=Path(out), options=opts, steps=steps, batch_size=2, device="cpu", seed=0
    )


def _classifier(tiny, tmp_path):
    folder = tmp_path / "cls"
    if not (folder / "weights.safetensors").exists():
        run_training(_request(tiny, folder, stage="classifier", steps=2))
    return folder


def _weights(path):
    from safetensors.torch import load_file

    return load_file(str(path))


def test_two_stages_train_log_plot_and_resume_exactly(tiny, tmp_path):
    cls = _classifier(tiny, tmp_path)
    assert (cls / "weights.safetensors").is_file() and (cls / "training.json").is_file()
    val = json.loads((cls / "training.json").read_text())["validation"]
    assert val and 0.0 <= val[-1]["accuracy"] <= 1.0

    resumed = tmp_path / "resumed"
    run_training(_request(tiny, resumed, steps=2, classifier=cls))
    summary = run_training(
        TrainRequest(**{**_request(tiny, resumed, steps=3, classifier=cls).__dict__, "resume": True})
    )
    assert summary["steps"] == 3
    straight = tmp_path / "straight"
    run_training(_request(tiny, straight, steps=3, classifier=cls))
    a, b = _weights(resumed / "weights.safetensors"), _weights(straight / "weights.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    rows = _csv_rows(resumed / "loss.csv")
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    for key in ("g_adv_c", "g_adv_b", "d_c", "d_b", "lb", "coverage", "binariness", "collapse"):
        assert key in rows[0]
    assert (resumed / "training.png").stat().st_size > 1000
    with pytest.raises(DbdbenchError, match="other options"):
        run_training(
            TrainRequest(**{**_request(tiny, resumed, steps=4, classifier=cls, eta=0.5).__dict__, "resume": True})
        )


def test_training_never_opens_a_mask(tiny, tmp_path, monkeypatch):
    """Every way a file can be read fails on the synth label folders; both stages still train."""
    import PIL.Image

    import dbdbench.io

    opened: list[str] = []

    def is_label(path) -> bool:
        return isinstance(path, (str, Path)) and bool(LABEL_DIRS & set(Path(path).parts[-2:-1]))

    def guard(real):
        def wrapper(path, *args, **kwargs):
            if is_label(path):
                raise AssertionError(f"selfgen training opened a label file: {path}")
            if isinstance(path, (str, Path)):
                opened.append(str(path))
            return real(path, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(PIL.Image, "open", guard(PIL.Image.open))
    monkeypatch.setattr(dbdbench.io, "_open", guard(dbdbench.io._open))
    monkeypatch.setattr(dbdbench.io, "read_gray", guard(dbdbench.io.read_gray))
    cls = tmp_path / "cls-guarded"
    run_training(_request(tiny, cls, stage="classifier", steps=2))
    run_training(_request(tiny, tmp_path / "adv-guarded", steps=2, classifier=cls))
    images = [p for p in opened if Path(p).parent.name == "images"]
    assert {Path(p).parent.parent.name.split("-")[0] for p in images} == {
        "train",
        "fc",
        "fb",
    }  # the guard saw the reads


def test_ablation_switches(tiny, tmp_path):
    # single D_c, no L_B: no classifier needed, D_b never trained (its optimiser never stepped)
    out = tmp_path / "single-dc"
    run_training(_request(tiny, out, steps=2, discriminators="clear", lb="false"))
    ck = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    rows = _csv_rows(out / "loss.csv")
    assert "d_c" in rows[0] and "d_b" not in rows[0] and "g_adv_b" not in rows[0] and "lb" not in rows[0]
    assert ck["optimizers"]["d_blurred"]["state"] == {} and ck["optimizers"]["d_clear"]["state"]
    out = tmp_path / "single-db"
    run_training(_request(tiny, out, steps=1, discriminators="blurred", lb="false"))
    rows = _csv_rows(out / "loss.csv")
    assert "d_b" in rows[0] and "d_c" not in rows[0]
    with pytest.raises(DbdbenchError, match="discriminators"):
        run_training(_request(tiny, tmp_path / "bad", steps=1, discriminators="three"))


def test_collapse_is_detected_and_reported(capsys):
    from dbdbench_selfgen.train import AdversarialTask

    task = AdversarialTask.__new__(AdversarialTask)
    task.cfg = {"collapse_eps": 0.02, "collapse_patience": 3}
    task.collapsed_run, task.collapse_events = 0, []
    task.ctx = type("C", (), {"is_main": True})()
    flags = [task._track_collapse(c, s) for s, c in enumerate([0.5, 0.01, 0.0, 0.001, 0.0, 0.4, 0.99, 0.995], 1)]
    assert flags == [False, True, True, True, True, False, True, True]
    assert task.collapse_events == [{"step": 4, "kind": "all-0 (everything blurred)", "coverage": 0.001}]
    err = capsys.readouterr().err
    assert "mask collapse" in err and "recovered" in err


def test_rates_are_constant_by_default_and_decay_on_a_cosine_when_asked():
    from dbdbench_selfgen.train import TRAIN_OPTIONS, AdversarialTask

    task = AdversarialTask.__new__(AdversarialTask)
    task.cfg = dict(TRAIN_OPTIONS, lr=4e-4, d_lr=2e-4)
    assert task._rates(0) == task._rates(10_000) == {"generator": 4e-4, "d_clear": 2e-4, "d_blurred": 2e-4}
    task.cfg.update(decay_steps=100, final_scale=0.05)
    g = [task._rates(s)["generator"] for s in (0, 25, 50, 75, 100, 500)]
    assert g[0] == pytest.approx(4e-4) and g[2] == pytest.approx(4e-4 * 0.525)
    assert g[4] == g[5] == pytest.approx(4e-4 * 0.05)
    assert all(a > b for a, b in itertools.pairwise(g[:5]))
    assert task._rates(50)["d_clear"] == pytest.approx(2e-4 * 0.525)


def test_a_decaying_run_resumes_exactly_and_logs_its_rate(tiny, tmp_path):
    cls = _classifier(tiny, tmp_path)
    opts = {"classifier": cls, "decay_steps": 3}
    resumed, straight = tmp_path / "resumed", tmp_path / "straight"
    run_training(_request(tiny, resumed, steps=2, **opts))
    run_training(TrainRequest(**{**_request(tiny, resumed, steps=3, **opts).__dict__, "resume": True}))
    run_training(_request(tiny, straight, steps=3, **opts))
    a, b = _weights(resumed / "weights.safetensors"), _weights(straight / "weights.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    rates = [float(r["lr"]) for r in _csv_rows(resumed / "loss.csv")]
    assert rates[0] > rates[1] > rates[2]


def test_missing_classifier_says_how_to_train_it(tiny, tmp_path):
    with pytest.raises(DbdbenchError, match="stage=classifier"):
        run_training(_request(tiny, tmp_path / "x", steps=1, variant="full"))


def test_full_variant_runs_with_random_weights_flagged():
    from click.testing import CliRunner
    from dbdbench_selfgen.method import SelfGen

    from dbdbench.cli import cli

    m = SelfGen(variant="full")
    assert m.is_random and "random" in m.provenance()["warning"]
    out = m.predict(np.zeros((40, 50, 3), np.uint8))
    assert out.shape == (40, 50) and 0 <= out.min() <= out.max() <= 1
    res = CliRunner().invoke(
        cli,
        [
            "bench",
            "--method",
            "selfgen",
            "--option",
            "variant=full",
            "--size",
            "32",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    record = json.loads(res.output[res.output.index("{") :])
    assert record["random_weights"] is True


def test_shipped_lite_weights_load():
    from dbdbench_selfgen.method import SelfGen

    if SelfGen.packaged_weights("lite") is None:
        pytest.skip("no packaged lite weights yet")
    m = SelfGen()
    assert not m.is_random and len(m.provenance()["weights_sha256"]) == 64
    rng = np.random.default_rng(0)
    out = m.predict(rng.integers(0, 255, (37, 61, 3), dtype=np.uint8))
    assert out.shape == (37, 61) and np.isfinite(out).all()


def _csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_init_starts_the_generator_from_given_weights(tiny, tmp_path):
    cls = _classifier(tiny, tmp_path)
    first = tmp_path / "first"
    run_training(_request(tiny, first, steps=1, classifier=cls))
    again = tmp_path / "again"
    # lr 0: the generator's parameters stay exactly what init loaded (BN running statistics still move)
    run_training(_request(tiny, again, steps=1, classifier=cls, init=first, lr=0.0))
    a, b = _weights(first / "weights.safetensors"), _weights(again / "weights.safetensors")
    params = [k for k in a if k.endswith(".weight") or k.endswith(".bias")]
    assert params and all(torch.equal(a[k], b[k]) for k in params)
    with pytest.raises(DbdbenchError, match="init="):
        run_training(_request(tiny, tmp_path / "bad", steps=1, classifier=cls, init=tmp_path / "nowhere"))


def test_update_ema_is_the_moving_average_and_copies_buffers():
    from dbdbench_selfgen.train import _frozen_copy, _update_ema

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2))
    ema = _frozen_copy(net)
    before = [p.clone() for p in ema.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
        net[1].running_mean.fill_(3.0)
    _update_ema(ema, net, decay=0.9, step=1000)  # past the ramp: d = 0.9
    for b, e, p in zip(before, ema.parameters(), net.parameters()):
        assert torch.allclose(e, 0.9 * b + 0.1 * p) and not e.requires_grad
    assert torch.equal(ema[1].running_mean, net[1].running_mean)
    _update_ema(ema, net, decay=0.999, step=0)  # the first update takes the current weights (d = 0)
    for e, p in zip(ema.parameters(), net.parameters()):
        assert torch.equal(e, p)
    first = [p.clone() for p in net.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    _update_ema(ema, net, decay=0.999, step=1)  # below the window: the plain mean of the two
    for e, a, b in zip(ema.parameters(), first, net.parameters()):
        assert torch.allclose(e, (a + b) / 2)


def test_ema_generator_is_exported_and_old_checkpoints_resume(tiny, tmp_path):
    cls = _classifier(tiny, tmp_path)
    out = tmp_path / "ema"
    run_training(_request(tiny, out, steps=2, classifier=cls, ema=0.5))
    ck = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    exported = _weights(out / "weights.safetensors")
    ema, last = ck["modules"]["generator_ema"], ck["modules"]["generator"]
    assert all(torch.equal(exported[k], ema[k]) for k in exported)
    assert any(not torch.equal(ema[k], last[k]) for k in ema if k.endswith(".weight"))

    # a checkpoint from before the option existed (no generator_ema, no 'ema' in its record) still resumes
    del ck["modules"]["generator_ema"]
    del ck["record"]["ema"]
    torch.save(ck, out / "checkpoints" / "last.pt")
    request = _request(tiny, out, steps=3, classifier=cls, ema=0.995)
    summary = run_training(TrainRequest(**{**request.__dict__, "resume": True}))
    assert summary["steps"] == 3


def test_torchrun_two_cpu_processes_both_stages_and_resume(tiny, synth_cache, tmp_path):
    import os
    import subprocess
    import sys

    torchrun = Path(sys.executable).parent / "torchrun"
    if not torchrun.exists():
        pytest.skip("torchrun is not installed next to this Python")
    env = {**os.environ, "DBDBENCH_CACHE": str(synth_cache), "OMP_NUM_THREADS": "1", "DBDBENCH_LOAD_PLUGINS": "selfgen"}
    data = ["--dataset", "synth", "--dataset-option", "n=8", "--dataset-option", "size=64", "--batch-size", "2"]
    opts = [x for k, v in tiny["options"].items() for x in ("--option", f"{k}={v}")]
    base = [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "dbdbench", "train", "--method", "selfgen"]
    cls, adv = tmp_path / "cls", tmp_path / "adv"
    runs = [
        [*data, *opts, "--option", "stage=classifier", "--steps", "2", "--out", str(cls)],
        [*data, *opts, "--option", f"classifier={cls}", "--steps", "2", "--out", str(adv)],
        [*data, *opts, "--option", f"classifier={cls}", "--steps", "3", "--out", str(adv), "--resume"],
    ]
    for args in runs:
        proc = subprocess.run(base + args, capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((adv / "training.json").read_text())
    assert summary["steps"] == 3 and summary["processes"] == 2
    assert (adv / "weights.safetensors").is_file()


def test_resize_trains_on_whole_images_resized(tiny, tmp_path):
    from dbdbench_selfgen.data import load
    from dbdbench_selfgen.train import resolve
    from PIL import Image

    path = tmp_path / "a.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(path)
    (image,) = load([path], resize=32)
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    (native,) = load([path])
    assert native.shape == (40, 60, 3)
    with pytest.raises(DbdbenchError, match="at most resize"):
        resolve({"resize": "64", "crop": "128"})
    out = tmp_path / "cls-whole"
    run_training(_request(tiny, out, stage="classifier", steps=1, resize=64, crop=64))
    assert json.loads((out / "training.json").read_text())["options"]["resize"] == 64


def test_feather_reaches_the_blurred_composite_and_rejects_negatives(tiny, tmp_path, monkeypatch):
    from dbdbench_selfgen import losses
    from dbdbench_selfgen.train import resolve

    with pytest.raises(DbdbenchError, match="feather"):
        resolve({"feather": "-1"})
    sigmas = []
    original = losses.feathered

    def spy(mask, sigma):
        sigmas.append(sigma)
        return original(mask, sigma)

    monkeypatch.setattr(losses, "feathered", spy)
    out = tmp_path / "feather"
    run_training(_request(tiny, out, steps=1, lb="false", feather=1.5))
    assert sigmas == [1.5]  # one generator step, one C_b
    assert json.loads((out / "training.json").read_text())["options"]["feather"] == 1.5
    sigmas.clear()
    run_training(_request(tiny, tmp_path / "plain", steps=1, lb="false"))
    assert sigmas == []  # the default pastes through M as it is (Eq. 2)
