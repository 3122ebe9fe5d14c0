"""Inference backends: same results as PyTorch fp32 eager, export, auto-selection, errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from torch import nn

from core.cli.main import main as cli_main
from core.inference.backends.export import onnx_model_bytes, read_onnx_meta
from core.inference.backends.onnx_backend import OnnxBackend, require_onnxruntime
from core.inference.backends.select import available_backends
from core.inference.backends.torch_backend import TorchBackend, fold_batchnorm
from core.inference.bundle import load_bundle, save_bundle
from core.inference.inferencer import BackendError
from core.inference.load import load_model
from core.model.draem import DraemModel
from tests.inspection_fakes import lively_model as _lively_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = 1e-4
FP32_BACKENDS = [b for b in ("pytorch", "onnxruntime", "openvino") if b in available_backends()]


def _bundle(path, recon: int, disc: int, size: int):
    meta = {"preset": "test", "recon_width": recon, "disc_width": disc, "image_size": [size, size],
            "thresholds": {"ok_limit": 0.4, "ng_limit": 0.6, "pixel": 0.5}}
    return save_bundle(path, _lively_model(recon, disc).state_dict(), meta)


def _frames(size: int, n: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    shapes = [(size, size), (size + 16, size - 8), (size // 2 + 5, size + 3)]
    return [rng.integers(0, 256, (*shapes[i % 3], 3), dtype=np.uint8) for i in range(n)]


def _assert_same(preds, refs):
    for p, r in zip(preds, refs, strict=True):
        assert p.anomaly_map.shape == r.anomaly_map.shape
        assert float(np.abs(p.anomaly_map - r.anomaly_map).max()) <= TOL
        assert abs(p.score - r.score) <= TOL


def _torch_backend(path, device, **kwargs):
    bundle = load_bundle(path)
    return TorchBackend(bundle.build_model(), bundle.meta, device, **kwargs)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return _bundle(tmp_path_factory.mktemp("tiny") / "tiny.limodel", 8, 4, 64)


@pytest.fixture(scope="module")
def tiny_refs(tiny):
    ref = load_model(tiny, "reference", "cpu")
    refs = ref.predict_batch(_frames(64), batch_size=2)
    maps = np.concatenate([r.anomaly_map.ravel() for r in refs])
    assert maps.std() > 0.05, "test model too dull: the comparison would prove nothing"
    return refs


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LINEINSPECTOR_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("backend", FP32_BACKENDS)
def test_fp32_backend_matches_pytorch_eager(tiny, tiny_refs, backend):
    inf = load_model(tiny, backend, "cpu", fallback=False)
    assert inf.backend_name == backend
    _assert_same(inf.predict_batch(_frames(64), batch_size=2), tiny_refs)
    single = inf.predict(_frames(64)[1])
    assert abs(single.score - tiny_refs[1].score) <= TOL
    assert inf.image_size == (64, 64) and inf.thresholds["ng_limit"] == 0.6
    assert inf.preprocess(_frames(64)[2]).shape == (64, 64, 3)


def test_fp32_backends_match_at_fast_preset_size(tmp_path):
    path = _bundle(tmp_path / "fast.limodel", 16, 8, 256)
    frames = _frames(256, 2)
    refs = load_model(path, "reference", "cpu").predict_batch(frames, batch_size=2)
    for backend in FP32_BACKENDS:
        _assert_same(load_model(path, backend, "cpu", fallback=False).predict_batch(frames, 2), refs)


def test_batchnorm_folding_is_equivalent():
    model = _lively_model(8, 4, seed=3)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    folded = fold_batchnorm(model)
    assert n_bn > 0 and folded.folded_batchnorms == n_bn
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == n_bn  # original kept
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        (rec_a, log_a), (rec_b, log_b) = model(x), folded(x)
    assert torch.allclose(rec_a, rec_b, atol=1e-5) and torch.allclose(log_a, log_b, atol=1e-4)
    assert float(log_a.std()) > 0.1


def test_export_graph_includes_score(tmp_path, tiny):
    out = tmp_path / "m.onnx"
    assert cli_main(["export", str(tiny), "--format", "onnx", "--out", str(out)]) == 0
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto)
    assert [o.name for o in proto.graph.output] == ["anomaly_map", "score"]
    assert [i.name for i in proto.graph.input] == ["image"]
    ops = {n.op_type for n in proto.graph.node}
    assert {"Sigmoid", "AveragePool", "ReduceMax"} <= ops and "BatchNormalization" not in ops
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    meta = read_onnx_meta(out)
    assert meta["image_size"] == [64, 64] and meta["onnx"]["batch"] == "dynamic"
    # the raw graph, without any of our Python around it, gives the reference score
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    ref = load_model(tiny, "reference", "cpu")
    frames = _frames(64)
    batch = np.stack([ref.preprocess(f) for f in frames])
    amap, score = sess.run(None, {"image": batch})
    assert amap.shape == (3, 64, 64) and score.shape == (3,)
    refs = ref.predict_batch([ref.preprocess(f) for f in frames])
    assert np.abs(score - np.array([r.score for r in refs])).max() <= TOL


def test_fixed_batch_export_chunks_and_pads(tmp_path, tiny, tiny_refs):
    bundle = load_bundle(tiny)
    data = onnx_model_bytes(bundle.build_model(), bundle.meta, batch=2)
    proto = onnx.load_from_string(data)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    inf = OnnxBackend(data, device="cpu")
    assert inf.fixed_batch == 2
    _assert_same(inf.predict_batch(_frames(64), batch_size=3), tiny_refs)


def test_auto_selection_measures_then_caches(tiny, tiny_refs):
    first = load_model(tiny, "auto", "cpu", fallback=False)
    assert first.backend_name in FP32_BACKENDS
    assert first.selection["reason"] == "measured"
    timings = first.selection["timings_ms"]
    assert set(timings) == set(FP32_BACKENDS)
    assert all(isinstance(v, float) for v in timings.values()), timings
    assert timings[first.backend_name] == min(timings.values())
    assert abs(first.predict(_frames(64)[0]).score - tiny_refs[0].score) <= TOL
    again = load_model(tiny, "auto", "cpu", fallback=False)
    assert again.selection["reason"] == "cached" and again.backend_name == first.backend_name
    named = load_model(tiny, "ort", "cpu", fallback=False)
    assert named.backend_name == "onnxruntime" and named.selection["reason"] == "requested"


def test_torch_backend_never_touches_cuda_on_cpu(tiny, tiny_refs):
    inf = _torch_backend(tiny, "cpu", cuda_graphs=True, threads=1)
    assert not inf.cuda_graphs and not inf.is_cuda and torch.get_num_threads() == 1
    assert "cpu" in inf.describe()
    _assert_same(inf.predict_batch(_frames(64), 2), tiny_refs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fp16_graph_close_to_fp32(tiny, tiny_refs):
    inf = _torch_backend(tiny, "cuda", cuda_graphs=True)
    preds = [inf.predict(f) for f in _frames(64)]  # batch 1: replays the captured graph
    assert inf.cuda_graphs
    assert max(abs(p.score - r.score) for p, r in zip(preds, tiny_refs)) < 2e-2


def test_int8_quantization_writes_a_working_model(tmp_path, tiny):
    from core.inference.backends.quantize import quantize_int8

    fp32 = tmp_path / "m.onnx"
    assert cli_main(["export", str(tiny), "--out", str(fp32)]) == 0
    rng = np.random.default_rng(1)
    calib = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(4)]
    q = quantize_int8(fp32, tmp_path / "q.onnx", calib, method="minmax", scope="all")
    ops = [n.op_type for n in onnx.load(str(q)).graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    inf = load_model(q, "onnxruntime", "cpu")
    assert inf.backend_name == "onnxruntime-int8" and read_onnx_meta(q)["calibration_images"] == 4
    pred = inf.predict(calib[0])
    assert np.isfinite(pred.score) and 0.0 <= pred.score <= 1.0
    auto = load_model(q, device="cpu")
    assert auto.backend_name.endswith("-int8") and auto.selection["reason"] == "measured"
    assert load_model(q, device="cpu").selection["reason"] == "cached"
    with pytest.raises(BackendError, match="at least 4 good images"):
        quantize_int8(fp32, tmp_path / "q2.onnx", calib[:2])


def test_cli_int8_export_from_a_folder(tmp_path, tiny):
    import cv2

    folder = tmp_path / "good"
    folder.mkdir()
    for i, frame in enumerate(_frames(64, 5)):
        cv2.imwrite(str(folder / f"{i}.png"), frame)
    out = tmp_path / "q.onnx"
    assert cli_main(["export", str(tiny), "--int8", "--calib", str(folder), "--out", str(out)]) == 0
    assert read_onnx_meta(out)["quantization"] == "int8-static-percentile"


def test_bad_requests_give_clear_errors(tmp_path, tiny, capsys):
    with pytest.raises(BackendError, match="unknown backend 'tensorrt'"):
        load_model(tiny, "tensorrt")
    with pytest.raises(BackendError, match="not found"):
        load_model(tmp_path / "missing.limodel")
    assert cli_main(["export", str(tiny), "--format", "tflite"]) == 2
    assert "unknown --format 'tflite'" in capsys.readouterr().err
    assert cli_main(["export", str(tiny), "--int8"]) == 2
    assert "--int8 needs --calib" in capsys.readouterr().err
    assert cli_main(["export", str(tiny), "--batch", "0"]) == 2
    assert cli_main(["export", str(tmp_path / "nope.limodel")]) == 2
    assert "not found" in capsys.readouterr().err
    onnx_file = tmp_path / "x.onnx"
    onnx_file.write_bytes(b"not a model")
    with pytest.raises(BackendError, match="x.onnx: onnxruntime cannot load it"):
        load_model(onnx_file, "onnxruntime")


def test_missing_onnxruntime_is_explained_and_auto_falls_back(tiny, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(BackendError, match="pip install onnxruntime"):
        require_onnxruntime()
    with pytest.raises(BackendError, match="onnxruntime"):
        load_model(tiny, "onnxruntime", "cpu", fallback=False)
    assert available_backends() == ["pytorch"]
    inf = load_model(tiny, "auto", "cpu", fallback=False)
    assert inf.backend_name == "pytorch"
    assert cli_main(["export", str(tiny), "--format", "openvino", "--out", str(tmp_path / "m.xml")]) == 2
    assert "pip install openvino" in capsys.readouterr().err


@pytest.mark.skipif("openvino" not in available_backends(), reason="openvino not installed")
def test_openvino_ir_export_round_trip(tmp_path, tiny, tiny_refs):
    out = tmp_path / "m.xml"
    assert cli_main(["export", str(tiny), "--format", "openvino", "--out", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".bin").is_file()
    inf = load_model(out, "auto", "cpu")
    assert inf.backend_name == "openvino"
    _assert_same(inf.predict_batch(_frames(64), 2), tiny_refs)
