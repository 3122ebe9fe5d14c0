"""int8 static quantisation of an exported graph (ONNX Runtime), calibrated on good images.

QDQ format, uint8 activations / int8 per-channel weights (the recommended CPU setting on
VNNI-capable x86), percentile calibration. Only convolutions are quantised, by default
only those of the reconstructive sub-network (81 % of the paper preset's 198 GMAC): the
discriminative network decides the score and int8 there cost AUROC in our measurements.
The first convolutions (3 or 6 input channels) and the output convolutions (3 or 2
channels) stay fp32, as does the scoring (two-class softmax as a sigmoid, mean filter, max). Accuracy is a
benchmark question, not a test: ``bench/backends.py --auroc`` compares image AUROC with fp32.

DSR graphs (issue 15) have their own scope, ``decoders``, the default for them: the general
and object-specific decoders, which run after every nearest-code lookup. The lookups
(MatMul, ArgMin, Gather) are never quantised (only Conv is), and neither is any convolution
in front of one: an int8 rounding there can flip an argmin, which swaps a whole code, not a
small numeric error. ``all`` on a DSR graph quantises those too, at the engineer's request.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from core.atomic import atomic_write_bytes
from core.inference.inferencer import BackendError
from core.inference.backends.export import INPUT_NAME, META_KEY, require_onnx
from core.inference.backends.onnx_backend import require_onnxruntime

CALIB_METHODS = ("minmax", "percentile", "entropy")


class _DropPreprocessAdvice(logging.Filter):
    """onnxruntime advises shape-inference pre-processing on every call; our exported graph
    is already constant-folded with BatchNorm folded, so the advice is noise here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-process" not in record.getMessage()

SCOPES = ("all", "reconstructive", "discriminative", "decoders")
#: the scopes each model kind has, its default first
KIND_SCOPES = {"draem": ("reconstructive", "discriminative", "all"), "dsr": ("decoders", "all")}
_DSR_DECODERS = ("general_decoder", "object_decoder")


def default_scope(meta: dict) -> str:
    """The int8 scope used unless one is asked for: DRÆM's reconstructive network, DSR's decoders."""
    return KIND_SCOPES[meta.get("model", "draem")][0]


def check_scope(scope: str, meta: dict) -> None:
    """BackendError unless ``scope`` exists for the graph's model kind."""
    kind = meta.get("model", "draem")
    if scope not in SCOPES:
        raise BackendError(f"unknown quantisation scope '{scope}' (choose from {', '.join(SCOPES)})")
    allowed = KIND_SCOPES.get(kind, ())
    if scope not in allowed:
        raise BackendError(f"quantisation scope '{scope}' does not exist in a {kind.upper()} model "
                           f"(choose from {', '.join(allowed)})")


def _reader_class():
    from onnxruntime.quantization import CalibrationDataReader

    class _Reader(CalibrationDataReader):
        """Feeds calibration batches; ``set_range`` lets onnxruntime calibrate one batch at a
        time (``CalibStridedMinMax``), so memory stays at one frame's activations."""

        def __init__(self, batches: list[np.ndarray]) -> None:
            self._batches = batches
            self._it: Iterator[np.ndarray] = iter(batches)

        def __len__(self) -> int:
            return len(self._batches)

        def set_range(self, start_index: int, end_index: int) -> None:
            self._it = iter(self._batches[start_index:end_index])

        def get_next(self):
            batch = next(self._it, None)
            return None if batch is None else {INPUT_NAME: batch}

    return _Reader


def calibration_batches(images: Iterable[np.ndarray], meta: dict,
                        batch: int = 1) -> Iterator[np.ndarray]:
    """Frames (any size/dtype :func:`to_model_input` accepts) -> float32 NHWC batches of
    what the network sees: the resized frame, or its tiles in tiles mode."""
    from core.inference.inferencer import network_inputs

    buf: list[np.ndarray] = []
    for im in images:
        for x in network_inputs(im, meta):
            buf.append(x)
            if len(buf) == batch:
                yield np.stack(buf)
                buf = []
    if buf:
        yield np.stack(buf)


def convs_to_keep_fp32(model_proto, scope: str = "all") -> list[str]:
    """Conv nodes left in fp32: first/last layers (<= 6 input or <= 3 output channels), and
    with ``scope`` naming one sub-network, every conv of the other one."""
    if scope not in SCOPES:
        raise BackendError(f"unknown quantisation scope '{scope}' (choose from {', '.join(SCOPES)})")
    parts = _DSR_DECODERS if scope == "decoders" else (scope,)
    weights = {t.name: list(t.dims) for t in model_proto.graph.initializer}
    keep = []
    for node in model_proto.graph.node:
        if node.op_type == "Conv" and len(node.input) > 1 and node.input[1] in weights:
            cout, cin = weights[node.input[1]][:2]
            outside = scope != "all" and not any(f"/{p}/" in node.name for p in parts)
            if cin <= 6 or cout <= 3 or outside:
                keep.append(node.name)
    return keep


def quantize_int8(fp32_onnx: str | os.PathLike, out: str | os.PathLike, images: Iterable[np.ndarray], *,
                  method: str = "percentile", per_channel: bool = True, min_images: int = 4,
                  scope: str | None = None) -> Path:
    """Write an int8 copy of ``fp32_onnx`` calibrated on ``images`` (good parts only);
    ``scope`` None: the model kind's default (:func:`default_scope`)."""
    require_onnxruntime()
    onnx = require_onnx()
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    if method not in CALIB_METHODS:
        raise BackendError(f"unknown calibration method '{method}' (choose from {', '.join(CALIB_METHODS)})")
    src, out = Path(fp32_onnx), Path(out)
    proto = onnx.load(str(src))
    props = {p.key: p.value for p in proto.metadata_props}
    meta = json.loads(props[META_KEY]) if META_KEY in props else None
    if meta is None:
        raise BackendError(f"{src}: not an ONNX file exported by LineInspector")
    if meta.get("quantization"):
        raise BackendError(f"{src}: already quantised ({meta['quantization']})")
    scope = default_scope(meta) if scope is None else scope
    check_scope(scope, meta)
    batches = list(calibration_batches(images, meta))
    if sum(b.shape[0] for b in batches) < min_images:
        raise BackendError(f"int8 calibration needs at least {min_images} good images, "
                           f"got {sum(b.shape[0] for b in batches)}")
    calib = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
             "entropy": CalibrationMethod.Entropy}[method]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    advice = _DropPreprocessAdvice()
    logging.getLogger().addFilter(advice)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # onnxruntime prints calibration progress
            quantize_static(proto, str(tmp), _reader_class()(batches), quant_format=QuantFormat.QDQ,
                            op_types_to_quantize=["Conv"], per_channel=per_channel, reduce_range=False,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=convs_to_keep_fp32(proto, scope), calibrate_method=calib,
                            # one batch per calibration pass: bounded memory (paper: ~1 GB a frame)
                            extra_options={"CalibStridedMinMax": 1})
        q = onnx.load(str(tmp))
        del q.metadata_props[:]
        meta = {**meta, "quantization": f"int8-static-{method}", "quantized_scope": scope,
                "calibration_images": int(sum(b.shape[0] for b in batches))}
        entry = q.metadata_props.add()
        entry.key, entry.value = META_KEY, json.dumps(meta)
        atomic_write_bytes(out, q.SerializeToString())
    finally:
        logging.getLogger().removeFilter(advice)
        tmp.unlink(missing_ok=True)
    return out
