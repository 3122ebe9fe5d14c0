"""Issue 15: the int8 companion of a DSR bundle is built and checked the way DRÆM's is.

Only the two decoders (after every nearest-code lookup) become int8 by default: an int8
rounding in front of an argmin can flip a code choice. The check is the same criterion as
DRÆM's (image scores within the tolerance of fp32 on held-out good images, kept in the
report); this tiny model only shows the behaviour, not accuracy or speed.
"""

from __future__ import annotations

import pytest

from core.inference.inferencer import BackendError
from core.inference.int8_companion import build_companion, companion_paths, verified_companion
from tests.dsr_fakes import lively_dsr_model, make_tiny_dsr_bundle, texture_frames

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

DECODERS = ("/general_decoder/", "/object_decoder/")


def _quantised_convs(path) -> list[str]:
    graph = onnx.load(str(path)).graph
    dq = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    return [n.name for n in graph.node if n.op_type == "Conv" and n.input[1] in dq]


@pytest.fixture()
def bundle(tmp_path):
    return make_tiny_dsr_bundle(tmp_path / "model.limodel", model=lively_dsr_model(2, confident=True))


def test_companion_quantises_only_the_decoders_and_is_checked(bundle):
    report = build_companion(bundle, texture_frames(4, seed=1), texture_frames(4, seed=2), threads=1)
    assert report["model"] == "dsr" and report["scope"] == "decoders"
    assert report["check_images"] == 4 and "max_abs_score_delta" in report
    onnx_path, report_path = companion_paths(bundle)
    assert report_path.is_file()
    if report["accepted"]:
        convs = _quantised_convs(onnx_path)
        assert convs and all(any(d in c for d in DECODERS) for c in convs)
        from core.inference.backends.export import file_sha256

        assert verified_companion(bundle, lambda: file_sha256(bundle)) is not None
    else:
        assert not onnx_path.exists() and "not used" in report["reason"]


def test_draem_scopes_do_not_exist_in_a_dsr_graph(bundle, tmp_path):
    from core.inference.backends.cache import onnx_for_bundle
    from core.inference.backends.export import file_sha256
    from core.inference.backends.quantize import quantize_int8

    fp32 = onnx_for_bundle(bundle, file_sha256(bundle))
    with pytest.raises(BackendError, match="'reconstructive' does not exist in a DSR model"):
        quantize_int8(fp32, tmp_path / "q.onnx", texture_frames(4), scope="reconstructive")
    q = quantize_int8(fp32, tmp_path / "all.onnx", texture_frames(4), scope="all", method="minmax")
    assert any("/fine_encoder/" in c for c in _quantised_convs(q))  # asked for: in front of lookups too
