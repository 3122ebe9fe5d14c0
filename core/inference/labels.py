"""How an inferencer is named to the operator: the status bar's few words and the tooltip's
longer line. Duck-typed (any object with ``backend_name``, ``device``, ``threads``,
``selection``) and free of heavy imports, so the live session can use it before a model loads."""

from __future__ import annotations

from core.inference.backends.names import REFERENCE

#: how the operator reads a bundle's ``meta["model"]``; DRÆM, the default, goes unnamed
MODEL_NAMES = {"dsr": "DSR"}


def model_prefix(meta) -> str:
    """'DSR · ' for a DSR model's metadata, '' for DRÆM's (the labels operators know)."""
    kind = meta.get("model") if isinstance(meta, dict) else None
    name = MODEL_NAMES.get(kind) if isinstance(kind, str) else None
    return f"{name} · " if name else ""


def backend_label(inferencer) -> str:
    """A few words for the status bar, e.g. 'onnxruntime (CPU, 1 thread)', or
    'DSR · onnxruntime (CPU, 1 thread)' for a DSR model."""
    name = str(getattr(inferencer, "backend_name", type(inferencer).__name__))
    if name == REFERENCE:
        name = "pytorch reference"
    device = str(getattr(inferencer, "device", "") or "").split(":")[0].upper()
    threads = getattr(inferencer, "threads", None)
    parts = [device] if device else []
    if device == "CPU" and isinstance(threads, int) and threads > 0:
        parts.append(f"{threads} thread{'s' if threads != 1 else ''}")
    text = f"{name} ({', '.join(parts)})" if parts else name
    return model_prefix(getattr(inferencer, "meta", None)) + text


def backend_details(inferencer) -> str:
    """A longer line for tooltips and logs: the backend's own description and how it was chosen."""
    describe = getattr(inferencer, "describe", None)
    text = describe() if callable(describe) else backend_label(inferencer)  # names the model
    selection = getattr(inferencer, "selection", None) or {}
    reason = selection.get("reason")
    if reason:
        text += f"; {reason}"
    timings = selection.get("timings_ms")
    if timings:
        text += " (" + ", ".join(f"{k}: {v} ms" if isinstance(v, (int, float)) else f"{k}: {v}"
                                 for k, v in timings.items()) + ")"
    return text
