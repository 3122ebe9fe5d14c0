"""Issue 15: every inference backend runs a DSR bundle, and ONNX Runtime's anomaly map M_o
matches the reference PyTorch backend to 1e-4.

Why the test models are not the official initialisation: with it the object-specific image
is nearly constant, and the detector's first instance norm divides by a standard deviation
close to sqrt(eps); float32 rounding is then amplified ~160 times and PyTorch itself differs
from a float64 run by 5e-4 in the logits, as much as ONNX Runtime does (the "1.5e-3" seen
before: the code indices were identical, the distance formula was not the cause).

Why ties are avoided: DSR picks the nearest code with an argmin. Where two codes are nearly
equidistant, a rounding difference of 1e-7 flips the choice, and the map changes by a whole
code's worth there: a discrete decision, not a numeric error. The models here have
codebooks drawn from their own features, and each test checks the margin it relies on.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.inference.backends.export import file_sha256, onnx_model_bytes
from core.inference.backends.select import available_backends, build
from core.inference.backends.torch_backend import ScoredModel, fold_batchnorm
from core.inference.bundle import load_bundle
from core.inference.inferencer import BackendError
from core.inference.labels import backend_details, backend_label
from core.inference.load import load_model
from core.inference.scoring import smoothing_kernel
from tests.dsr_fakes import code_margins, lively_dsr_model, make_tiny_dsr_bundle, texture_frames

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

TOL = 1e-4
MIN_MARGIN = 1e-5   # squared-distance gap; float32 rounding of these distances (~1) is ~1e-6
FP32 = [b for b in ("pytorch", "onnxruntime", "openvino") if b in available_backends()]


def _frames(n: int = 3) -> np.ndarray:
    """NHWC float32 network inputs in [0, 1] (what to_model_input gives for these frames)."""
    return (np.stack(texture_frames(n)) / 255.0).astype(np.float32)


def _nchw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="module")
def confident(tmp_path_factory):
    model = lively_dsr_model(0, confident=True)
    return model, make_tiny_dsr_bundle(tmp_path_factory.mktemp("dsr") / "model.limodel", model=model)


@pytest.mark.parametrize("backend", FP32)
def test_every_backend_runs_dsr_and_matches_the_reference(confident, backend):
    model, path = confident
    x = _frames()
    assert code_margins(model, _nchw(x)) > MIN_MARGIN  # no near-tie: no argmin can flip
    ref_map, ref_score = build("reference", path, "cpu", 1)._infer(x)
    amap, score = build(backend, path, "cpu", 1, lambda: file_sha256(path))._infer(x)
    assert amap.shape == ref_map.shape == (3, 64, 64)
    assert float(np.abs(amap - ref_map).max()) <= TOL
    assert float(np.abs(score - ref_score).max()) <= TOL


def test_onnx_is_as_exact_as_pytorch_itself_on_a_spread_map():
    """On a map spread over [0, 1] (softmax slope up to 1/4) the ~60 convolutions of the two
    U-Nets leave float32 about 1e-4 from float64 in PyTorch too; ONNX Runtime must not be
    farther from float64 than twice PyTorch's own distance."""
    model = lively_dsr_model(1)
    x = _frames(2)
    assert code_margins(model, _nchw(x)) > MIN_MARGIN
    kernel = smoothing_kernel((64, 64))
    with torch.inference_mode():
        exact = ScoredModel(lively_dsr_model(1).double(), kernel)(torch.from_numpy(x).double())[0].numpy()
        ref = ScoredModel(model, kernel)(torch.from_numpy(x))[0].numpy()
    meta = {"image_size": [64, 64]}
    sess = ort.InferenceSession(onnx_model_bytes(model, meta, batch=None), providers=["CPUExecutionProvider"])
    onnx_map = sess.run(None, {"image": x})[0]
    torch_err, onnx_err = np.abs(ref - exact).max(), np.abs(onnx_map - exact).max()
    assert 0.05 < float(exact.max() - exact.min())   # the map is spread, not saturated
    assert onnx_err <= 2 * torch_err + 1e-6, (onnx_err, torch_err)


def test_batchnorm_folding_is_a_no_op_for_dsr(confident):
    model, _ = confident
    folded = fold_batchnorm(model)
    assert folded.folded_batchnorms == 0           # DSR has instance norms only
    x = _nchw(_frames(1))
    with torch.inference_mode():
        assert torch.equal(model(x)[1], folded(x)[1])


def test_load_model_runs_a_dsr_bundle_on_auto(confident):
    _, path = confident
    inf = load_model(path, "auto", "cpu", 1)
    pred = inf.predict((_frames(1)[0] * 255).astype(np.uint8))
    assert pred.anomaly_map.shape == (64, 64) and 0.0 <= pred.score <= 1.0
    assert inf.selection["backend"] in FP32
    assert backend_label(inf).startswith("DSR · ") and backend_details(inf).startswith("DSR · ")


@pytest.mark.skipif("openvino" in available_backends(), reason="openvino is installed")
def test_openvino_missing_is_a_clear_error(confident):
    _, path = confident
    with pytest.raises(BackendError, match="openvino"):
        load_model(path, "openvino", "cpu", 1, fallback=False)
    assert load_model(path, "openvino", "cpu", 1).selection["backend"] == "reference"


def test_code_lookup_is_float32_in_a_half_model_and_dsr_stays_fp32_on_cuda():
    """Features half-way between two codes (gaps of ~1 in squared distance, ~1e3 in size):
    fp16 distances picked the wrong code for 32 of these 2,048 on this seed; float32 none."""
    from core.inference.backends.torch_backend import half_on_cuda
    from core.model.dsr import VectorQuantiser

    torch.manual_seed(0)
    quant = VectorQuantiser(64, 8)
    quant.embedding.mul_(4)
    quant = quant.half()
    e = quant.embedding.float()
    i = torch.randint(0, 64, (2048,))
    j = (i + 1 + torch.randint(0, 63, (2048,))) % 64
    shift = (torch.rand(2048, 1) - 0.5) * 0.004
    flat = (0.5 * (e[i] + e[j]) + shift * (e[i] - e[j])).half()
    _, _, got = quant(flat.view(1, 2048, 8).permute(0, 2, 1).unsqueeze(-1), update=False)
    exact = torch.cdist(flat.double(), quant.embedding.double()).argmin(dim=1)
    assert torch.equal(got.flatten(), exact)
    assert half_on_cuda({}) and half_on_cuda({"model": "draem"}) and not half_on_cuda({"model": "dsr"})
