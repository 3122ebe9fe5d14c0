"""Inference backends behind one interface (that of :class:`core.inference.inferencer.Inferencer`).

* ``pytorch``: eager PyTorch, BatchNorm folded; fp16 + channels_last (+ CUDA graph) on CUDA.
* ``onnxruntime``: the exported ONNX graph (scoring inside) on the CPU or CUDA provider.
* ``openvino``: the same graph on OpenVINO's CPU plugin (optional package).

Use :func:`load_inferencer` (``backend="auto"`` picks the fastest here and says which).
"""

from core.inference.backends.base import BackendError, InferenceBackend
from core.inference.backends.select import available_backends, load_inferencer

__all__ = ["BackendError", "InferenceBackend", "available_backends", "load_inferencer"]
