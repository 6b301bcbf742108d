"""Shapes, parameter counts per variant (the paper's sizes), inference paths, weights I/O and the plugin surface."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dbdbench_rtdbd.model import VARIANTS, build, count_parameters, fuse_for_inference, image_gradients

#: The paper's Table 1 "Model Size": 26.73M with the gradient input, 7.79M without - read as megabytes of
#: float32 weights (BTBNet 200M and DSS 238M in the same row are VGG-scale networks: megabytes, not parameters).
PAPER_MB = {"full": 26.73, "nograd": 7.79}


@pytest.mark.parametrize("variant", ["full", "nograd"])
def test_paper_sized_variants_match_the_reported_model_size(variant):
    mb = count_parameters(build(variant)) * 4 / 1e6
    assert abs(mb - PAPER_MB[variant]) / PAPER_MB[variant] <= 0.15, mb


def test_lite_is_much_smaller_and_nograd_has_no_gradient_encoder():
    assert count_parameters(build("lite")) < count_parameters(build("nograd")) / 1.5
    assert build("nograd").grad_encoder is None and build("full").grad_encoder is not None


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_output_shape_and_range(variant):
    net = build(variant).eval()
    with torch.no_grad():
        y = net(torch.rand(2, 3, 64, 96))
    assert y.shape == (2, 1, 64, 96) and float(y.min()) >= 0 and float(y.max()) <= 1


def test_gradients_are_partial_derivatives():
    x = torch.zeros(1, 3, 8, 8)
    x[..., :, 4:] = 1.0  # a vertical edge: only d/dx responds
    g = image_gradients(x)
    assert g.shape == (1, 2, 8, 8)
    assert float(g[0, 0].abs().sum()) > 0 and float(g[0, 1].abs().sum()) == 0


def _with_batchnorm_statistics_of(net: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    """Set every BatchNorm's running statistics to those of ``x`` (fresh BN leaves random features tiny)."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average: one batch sets the statistics
    with torch.no_grad():
        net.train()(x)
    return net.eval()


def test_context_branch_starts_silent_and_then_sees_the_whole_image():
    """lite computes what lite-plain does until its context branch learns; then a far region changes the
    output, which lite-plain's receptive field cannot reach."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 512, 512)
    plain = _with_batchnorm_statistics_of(build("lite-plain"), x)
    ctx = build("lite").eval()
    ctx.load_state_dict(plain.state_dict(), strict=False)
    far = x.clone()
    far[..., :128, :] = 0.5  # flatten the top quarter
    with torch.no_grad():
        assert torch.equal(plain.logits(x), ctx.logits(x))
        assert torch.equal(plain.logits(x)[..., -8:, :], plain.logits(far)[..., -8:, :])
        torch.nn.init.normal_(ctx.context.expand.weight, std=0.1)
        change = (ctx.logits(x)[..., -8:, :] - ctx.logits(far)[..., -8:, :]).abs().max()
    assert float(change) > 1e-3


def test_weights_from_before_the_rename_map_to_todays_variant_names():
    from dbdbench_rtdbd.model import variant_of_weights

    plain, ctx = build("lite-plain").state_dict(), build("lite").state_dict()
    assert variant_of_weights({"variant": "lite"}, plain) == "lite-plain"  # lite before it had the branch
    assert variant_of_weights({"variant": "lite-ctx"}, ctx) == "lite"
    assert variant_of_weights({"variant": "lite"}, ctx) == "lite"  # written after the rename
    assert variant_of_weights({"variant": "lite-wide"}, build("lite-wide").state_dict()) == "lite-wide"


def test_folding_batchnorm_keeps_the_outputs():
    torch.manual_seed(0)
    net = build("lite")
    for m in net.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    net.eval()
    x = torch.rand(1, 3, 48, 64)
    with torch.no_grad():
        before = net(x)
        after = fuse_for_inference(net)(x)
    assert torch.allclose(before, after, atol=1e-5)


def test_method_native_and_fixed_size_inference_and_provenance(tmp_path):
    from dbdbench_rtdbd.method import RTDBD
    from dbdbench_torch.weights import save_weights

    path = tmp_path / "w.safetensors"
    sha = save_weights(build("lite"), path)
    image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    native = RTDBD(weights=str(path))
    fixed = RTDBD(weights=str(path), input_size=64)
    for method in (native, fixed):
        out = method.predict(image)
        assert out.shape == (50, 70) and out.dtype == np.float32 and 0 <= out.min() <= out.max() <= 1
    assert native.provenance()["weights_sha256"] == sha
    batch = native.predict_batch([image, image[:32], image])
    assert [b.shape for b in batch] == [(50, 70), (32, 70), (50, 70)]
    np.testing.assert_allclose(batch[0], native.predict(image), atol=1e-5)


def test_random_weights_are_flagged_and_bench_can_time_full():
    from dbdbench_rtdbd.method import RTDBD

    method = RTDBD(variant="full")  # no trained weights ship for 'full'
    assert method.provenance()["weights"] == "random" and "warning" in method.provenance()
    run = method.model_forward(64, 64)
    run()


def test_wrong_weights_give_one_line_errors(tmp_path):
    from dbdbench_rtdbd.method import RTDBD
    from dbdbench_torch.weights import save_weights

    from dbdbench.errors import DbdbenchError

    save_weights(build("nograd"), tmp_path / "nograd.safetensors")
    with pytest.raises(DbdbenchError, match="do not fit"):
        RTDBD(weights=str(tmp_path / "nograd.safetensors")).predict(np.zeros((32, 32, 3), np.uint8))
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(DbdbenchError, match="not a readable safetensors"):
        RTDBD(weights=str(tmp_path / "junk.safetensors")).predict(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(DbdbenchError, match="not found"):
        RTDBD(weights=str(tmp_path / "missing.safetensors"))


def test_plugin_import_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, dbdbench_rtdbd.plugin, dbdbench_rtdbd.method; assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
