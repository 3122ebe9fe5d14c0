"""Load a model for inference on a named backend, "auto", or the reference PyTorch Inferencer.

:func:`load_model` is what the live session and the command line use. ``backend`` is any
name :func:`core.inference.backends.select.load_inferencer` accepts (``auto``, ``pytorch``,
``onnxruntime``, ``openvino`` and their aliases) or ``reference``: the plain PyTorch
:class:`~core.inference.inferencer.Inferencer` that every backend is checked against. With
``fallback`` a backend that fails to load is replaced by the reference Inferencer; the
reason is logged and kept in ``.selection``. Every object returned has ``.selection``
(``backend``, ``reason``) and :func:`backend_label` names it in a few words.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

REFERENCE = "reference"
BACKEND_CHOICES = ("auto", "pytorch", "onnxruntime", "openvino", REFERENCE)
BACKEND_ALIASES = ("torch", "eager", "onnx", "ort", "ov")


def load_reference(path: str | os.PathLike, device: str = "auto", threads: int | None = None,
                   reason: str = "requested"):
    """The reference PyTorch Inferencer, warmed up, with ``.selection`` and ``.threads``."""
    import torch

    from core.inference.inferencer import Inferencer

    inf = Inferencer.from_bundle(Path(path), device=device, threads=threads)
    inf.warmup(1)
    inf.selection = {"backend": REFERENCE, "reason": reason}
    inf.threads = torch.get_num_threads() if inf.device.type == "cpu" else None
    return inf


def load_model(path: str | os.PathLike, backend: str = "auto", device: str = "auto",
               threads: int | None = None, *, fallback: bool = True):
    """Load ``path`` on ``backend``; see the module docstring. Raises BackendError, BundleError
    or ValueError when nothing could load it."""
    from core.inference.backends import BackendError, load_inferencer

    name = (backend or "auto").strip().lower()
    if name == REFERENCE:
        return load_reference(path, device, threads)
    try:
        return load_inferencer(path, name, device, threads)
    except (BackendError, RuntimeError, ValueError, OSError) as exc:
        path = Path(path)
        if not fallback or not path.is_file() or path.suffix.lower() in (".onnx", ".xml") \
                or str(exc).startswith("unknown backend"):
            raise  # nothing the reference Inferencer could do better
        log.warning("inference backend '%s' failed to load %s (%s); using the reference "
                    "PyTorch Inferencer", name, path, exc)
        return load_reference(path, device, threads, reason=f"fallback: {name} failed ({exc})")


def backend_label(inferencer) -> str:
    """A few words for the status bar, e.g. 'onnxruntime (CPU, 1 thread)'."""
    selection = getattr(inferencer, "selection", None) or {}
    name = "pytorch reference" if selection.get("backend") == REFERENCE else \
        str(getattr(inferencer, "backend_name", type(inferencer).__name__))
    device = str(getattr(inferencer, "device", "") or "").split(":")[0].upper()
    threads = getattr(inferencer, "threads", None)
    parts = [device] if device else []
    if device == "CPU" and isinstance(threads, int) and threads > 0:
        parts.append(f"{threads} thread{'s' if threads != 1 else ''}")
    return f"{name} ({', '.join(parts)})" if parts else name


def backend_details(inferencer) -> str:
    """A longer line for tooltips and logs: the backend's own description and how it was chosen."""
    describe = getattr(inferencer, "describe", None)
    text = describe() if callable(describe) else backend_label(inferencer)
    selection = getattr(inferencer, "selection", None) or {}
    reason = selection.get("reason")
    if reason:
        text += f"; {reason}"
    timings = selection.get("timings_ms")
    if timings:
        text += " (" + ", ".join(f"{k}: {v} ms" if isinstance(v, (int, float)) else f"{k}: {v}"
                                 for k, v in timings.items()) + ")"
    return text
