"""Inference backends, each an :class:`core.inference.inferencer.Inferencer`.

* ``pytorch``: eager PyTorch, BatchNorm folded; fp16 + channels_last (+ CUDA graph) on CUDA.
* ``onnxruntime``: the exported ONNX graph (scoring inside) on the CPU or CUDA provider.
* ``openvino``: the same graph on OpenVINO's CPU plugin (optional package).
* ``reference``: the trained PyTorch model as it is, that every backend is checked against.

Load a model with :func:`core.inference.load.load_model` (``backend="auto"`` picks the
fastest here and says which).
"""
