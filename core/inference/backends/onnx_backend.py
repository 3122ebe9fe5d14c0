"""ONNX Runtime backend: CPU execution provider, CUDA execution provider where present.

The graph (see :mod:`.export`) computes the anomaly map and the image score itself, so a
run is one ``session.run``. Threads are set deliberately: ``intra_op_num_threads`` =
``threads`` (default: ``$LINEINSPECTOR_THREADS`` or every core), one inter-op thread,
sequential execution (DRAEM is a chain, parallel execution buys nothing), all graph
optimisations (constant folding, fusions, NCHWc layout on CPU).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.inference.inferencer import BackendError, Inferencer
from core.inference.labels import model_prefix
from core.inference.backends.export import INPUT_NAME, OUTPUT_NAMES, meta_from_props
from core.settings_env import resolve_threads

CPU_EP = "CPUExecutionProvider"
CUDA_EP = "CUDAExecutionProvider"


def require_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise BackendError("the onnxruntime backend needs the 'onnxruntime' package "
                           "(pip install onnxruntime, or onnxruntime-gpu for CUDA)") from None
    return onnxruntime


def default_threads(threads: int | None = None) -> int:
    """Same rule as :func:`core.device.configure_cpu_threads`, without touching torch
    (a SettingError for a count ONNX Runtime / OpenVINO would hang on)."""
    return resolve_threads(threads)


def resolve_providers(device: str) -> tuple[list, str]:
    """Execution providers for ``device`` ('auto', 'cpu', 'cuda[:N]') and the device used."""
    ort = require_onnxruntime()
    available = ort.get_available_providers()
    dev = (device or "auto").lower()
    if dev == "auto":
        dev = "cuda" if CUDA_EP in available else "cpu"
    if dev == "cpu":
        return [CPU_EP], "cpu"
    if dev.startswith("cuda"):
        if CUDA_EP not in available:
            raise BackendError(f"device '{device}' requested but this onnxruntime has no CUDA "
                               f"execution provider (available: {', '.join(available)})")
        index = int(dev.split(":", 1)[1]) if ":" in dev else 0
        return [(CUDA_EP, {"device_id": index}), CPU_EP], f"cuda:{index}"
    raise BackendError(f"unknown device '{device}' (use auto, cpu or cuda[:N])")


class OnnxBackend(Inferencer):
    """Runs an exported LineInspector ONNX graph (fp32 or int8-quantised)."""

    backend_name = "onnxruntime"

    def __init__(self, model: str | os.PathLike | bytes, meta: dict | None = None, device: str = "cpu",
                 threads: int | None = None, warmup_runs: int = 1, spinning: bool = True) -> None:
        ort = require_onnxruntime()
        providers, used = resolve_providers(device)
        self.threads = default_threads(threads)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        # Spinning workers cut latency between ops; turn off to give idle cores back sooner.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        opts.add_session_config_entry("session.set_denormal_as_zero", "1")  # no slow denormal paths
        source = model if isinstance(model, bytes) else str(model)
        if not isinstance(model, bytes) and not Path(model).is_file():
            raise BackendError(f"{model}: ONNX file not found")
        try:
            self.session = ort.InferenceSession(source, opts, providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            where = "in-memory model" if isinstance(model, bytes) else str(model)
            raise BackendError(f"{where}: onnxruntime cannot load it ({exc})") from None
        if meta is None:
            meta = meta_from_props(self.session.get_modelmeta().custom_metadata_map,
                                   "in-memory model" if isinstance(model, bytes) else model)
        super().__init__(meta, used)
        self.concurrent = used == "cpu"  # InferenceSession.run is thread-safe; each run uses
        # the calling thread plus threads-1 pool threads
        names = [i.name for i in self.session.get_inputs()]
        outs = [o.name for o in self.session.get_outputs()]
        if names != [INPUT_NAME] or tuple(outs) != OUTPUT_NAMES:
            raise BackendError(f"ONNX graph has inputs {names} / outputs {outs}; expected "
                               f"['{INPUT_NAME}'] / {list(OUTPUT_NAMES)} (export it with lineinspect export)")
        shape = self.session.get_inputs()[0].shape
        self.fixed_batch = shape[0] if isinstance(shape[0], int) else None
        self.quantization = str(meta.get("quantization") or "")
        if self.quantization:
            self.backend_name = f"onnxruntime-{self.quantization.split('-')[0]}"
        self.warmup(warmup_runs)

    def describe(self) -> str:
        ep = self.session.get_providers()[0]
        return model_prefix(self.meta) + f"{self.backend_name} ({ep}, {self.threads} intra-op threads)"

    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        amap, score = self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: batch})
        return amap, score

    def _infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = self.fixed_batch
        if n is None or batch.shape[0] == n:
            return self._run(batch)
        maps, scores = [], []  # a fixed-batch graph: feed it in chunks, pad the last one
        for i in range(0, batch.shape[0], n):
            part = batch[i:i + n]
            k = part.shape[0]
            if k < n:
                part = np.concatenate([part, np.zeros((n - k, *part.shape[1:]), part.dtype)])
            m, s = self._run(part)
            maps.append(m[:k])
            scores.append(s[:k])
        return np.concatenate(maps), np.concatenate(scores)
