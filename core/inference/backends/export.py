"""Export a model bundle to ONNX with the scoring inside the graph.

The graph takes ``image``: float32 (N, H, W, 3) BGR in [0, 1] (exactly what
:func:`core.io.images.to_model_input` returns, stacked) and gives ``anomaly_map``
(N, H, W, softmax probability of the anomalous class) and ``score`` (N, the maximum of the
mean-filtered map, as :mod:`core.inference.scoring`). BatchNorm is folded into the
convolutions before export. The bundle metadata travels in the ONNX ``metadata_props``
under the key ``lineinspector``, so an exported file is self-describing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from pathlib import Path

from core.atomic import atomic_write_bytes

META_KEY = "lineinspector"
INPUT_NAME = "image"
OUTPUT_NAMES = ("anomaly_map", "score")
DEFAULT_OPSET = 17


class ExportError(ValueError):
    """Export failed or an exported file is not usable; the message names the file."""


def require_onnx():
    """Import the ``onnx`` package or explain how to get it."""
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the 'onnx' package: pip install onnx") from None
    return onnx


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _newest_opset() -> int:
    """The newest opset torch's TorchScript exporter writes (20 for torch 2.x)."""
    try:
        from torch.onnx import _constants
    except ImportError:
        return 20
    return int(getattr(_constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", 20))


def onnx_model_bytes(model, meta: dict, *, batch: int | None = 1, opset: int = DEFAULT_OPSET,
                     extra_meta: dict | None = None) -> bytes:
    """Serialise a model (DRÆM or DSR: both return (image, logits)) plus scoring to ONNX bytes.

    DSR's nearest-code lookup exports as it runs in PyTorch (MatMul, ReduceSum, ArgMin,
    Gather: the same ||z||^2 - 2 z.e + ||e||^2 formula), so both pick the same codes.

    ``batch``: a fixed batch size, or ``None`` for a dynamic batch dimension.
    """
    import torch

    from core.inference.backends.torch_backend import ScoredModel, fold_batchnorm
    from core.inference.scoring import smoothing_kernel

    onnx = require_onnx()
    if opset < 17:
        raise ExportError(f"opset {opset} is too old; use 17 or newer")
    newest = _newest_opset()
    if opset > newest:
        raise ExportError(f"opset {opset} is newer than this PyTorch exports; use 17 to {newest}")
    if batch is not None and batch < 1:
        raise ExportError(f"batch must be >= 1 or dynamic, got {batch}")
    size = tuple(int(v) for v in meta["image_size"])
    net = ScoredModel(fold_batchnorm(model).cpu().float(), smoothing_kernel(size)).eval()
    example = torch.zeros((batch or 1, *size, 3), dtype=torch.float32)
    dynamic = None
    if batch is None:
        dynamic = {INPUT_NAME: {0: "batch"}, **{name: {0: "batch"} for name in OUTPUT_NAMES}}
    buf = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter warns that it is the legacy path
        warnings.simplefilter("ignore")
        # The TorchScript-based exporter: deterministic, no extra dependency (onnxscript).
        torch.onnx.export(net, (example,), buf, dynamo=False, input_names=[INPUT_NAME],
                          output_names=list(OUTPUT_NAMES), opset_version=opset,
                          dynamic_axes=dynamic, do_constant_folding=True)
    proto = onnx.load_from_string(buf.getvalue())
    full_meta = dict(meta)
    full_meta.update(extra_meta or {})
    full_meta["onnx"] = {"input": f"{INPUT_NAME}: float32 (N,H,W,3) BGR in [0,1]",
                         "outputs": list(OUTPUT_NAMES), "opset": opset,
                         "batch": batch if batch is not None else "dynamic",
                         "batchnorm_folded": True}
    entry = proto.metadata_props.add()
    entry.key, entry.value = META_KEY, json.dumps(full_meta)
    proto.producer_name = "LineInspector"
    return proto.SerializeToString()


def export_bundle(bundle_path: str | os.PathLike, out: str | os.PathLike | None = None, *,
                  batch: int | None = None, opset: int = DEFAULT_OPSET) -> Path:
    """Write ``bundle_path`` as ONNX (default: next to it, suffix ``.onnx``); returns the path."""
    from core.inference.bundle import load_bundle

    bundle_path = Path(bundle_path)
    bundle = load_bundle(bundle_path)
    out = Path(out) if out is not None else bundle_path.with_suffix(".onnx")
    data = onnx_model_bytes(bundle.build_model(), bundle.meta, batch=batch, opset=opset,
                            extra_meta={"source_bundle_sha256": file_sha256(bundle_path)})
    return atomic_write_bytes(out, data)


def read_onnx_meta(path: str | os.PathLike) -> dict:
    """The LineInspector metadata stored in an exported ONNX file."""
    onnx = require_onnx()
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: ONNX file not found")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError and friends
        raise ExportError(f"{path}: not a readable ONNX model ({exc})") from None
    return meta_from_props({p.key: p.value for p in proto.metadata_props}, path)


def meta_from_props(props: dict, source: object) -> dict:
    """Parse our metadata out of an ONNX metadata map (from onnx or an ORT session)."""
    raw = props.get(META_KEY)
    if raw is None:
        raise ExportError(f"{source}: an ONNX model but not one exported by LineInspector "
                          f"(no '{META_KEY}' metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{source}: corrupt LineInspector metadata ({exc})") from None
    if "image_size" not in meta:
        raise ExportError(f"{source}: LineInspector metadata lacks image_size")
    return meta
