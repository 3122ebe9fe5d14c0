"""OpenVINO backend (CPU), optional: used only when the ``openvino`` package is installed.

Reads the same ONNX graph as the ONNX Runtime backend (scoring inside) or an OpenVINO IR
written by ``lineinspect export --format openvino``. Inference precision is pinned to f32
(OpenVINO would otherwise pick bf16 on CPUs that have it), one stream, latency hint,
``INFERENCE_NUM_THREADS`` set explicitly. The model is compiled for a static batch size;
other batch sizes get their own compiled model on first use.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from core.inference.inferencer import BackendError, Inferencer
from core.inference.labels import model_prefix
from core.inference.backends.export import META_KEY, OUTPUT_NAMES, read_onnx_meta
from core.inference.backends.onnx_backend import default_threads


def require_openvino():
    try:
        import openvino
    except ImportError:
        raise BackendError("the openvino backend needs the 'openvino' package "
                           "(pip install openvino); it is optional") from None
    return openvino


def save_ir(onnx_path: str | os.PathLike, out_xml: str | os.PathLike, meta: dict | None = None) -> Path:
    """Convert an exported ONNX graph to OpenVINO IR (.xml + .bin, fp32 weights)."""
    ov = require_openvino()
    meta = meta if meta is not None else read_onnx_meta(onnx_path)
    model = ov.Core().read_model(str(onnx_path))
    model.set_rt_info(json.dumps(meta), [META_KEY])
    out_xml = Path(out_xml)
    out_xml.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(out_xml), compress_to_fp16=False)
    return out_xml


class OpenVinoBackend(Inferencer):
    backend_name = "openvino"

    def __init__(self, model_path: str | os.PathLike, meta: dict | None = None, device: str = "cpu",
                 threads: int | None = None, warmup_runs: int = 1) -> None:
        ov = require_openvino()
        if (device or "cpu").lower() not in ("cpu", "auto"):
            raise BackendError(f"the openvino backend runs on the CPU only, not '{device}'")
        path = Path(model_path)
        if not path.is_file():
            raise BackendError(f"{path}: model file not found")
        self.core = ov.Core()
        try:
            self.model = self.core.read_model(str(path))
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses of its own
            raise BackendError(f"{path}: OpenVINO cannot read it ({exc})") from None
        if meta is None:
            if self.model.has_rt_info([META_KEY]):
                meta = json.loads(self.model.get_rt_info([META_KEY]).astype(str))
            else:
                meta = read_onnx_meta(path)
        super().__init__(meta, "cpu")
        self.quantization = str(meta.get("quantization") or "")
        if self.quantization:  # a QDQ graph: OpenVINO runs those convolutions in int8
            self.backend_name = f"openvino-{self.quantization.split('-')[0]}"
        self.threads = default_threads(threads)
        self.config = {"INFERENCE_NUM_THREADS": self.threads, "INFERENCE_PRECISION_HINT": "f32",
                       "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
        self._requests: dict[int, object] = {}
        self._request(1)
        self.warmup(warmup_runs)

    def describe(self) -> str:
        return model_prefix(self.meta) + (f"{self.backend_name} (CPU, f32 inference precision, "
                                          f"{self.threads} threads)")

    def _request(self, n: int):
        req = self._requests.get(n)
        if req is None:
            ov = require_openvino()
            h, w = self.image_size
            model = self.model.clone()
            model.reshape({0: ov.PartialShape([n, h, w, 3])})
            req = self._requests[n] = self.core.compile_model(model, "CPU", self.config).create_infer_request()
        return req

    def _infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        req = self._request(batch.shape[0])
        req.infer({0: batch})
        # copies: the request's output buffers are reused by the next call
        return (np.array(req.get_tensor(OUTPUT_NAMES[0]).data, copy=True),
                np.array(req.get_tensor(OUTPUT_NAMES[1]).data, copy=True))
