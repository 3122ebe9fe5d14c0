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
    from core.inference.backends.reference import ReferenceBackend
    from core.inference.bundle import load_bundle

    bundle = load_bundle(Path(path))
    inf = ReferenceBackend(bundle.build_model(), bundle.meta, device, threads, warmup_runs=1)
    inf.selection = {"backend": REFERENCE, "reason": reason}
    return inf


def load_model(path: str | os.PathLike, backend: str = "auto", device: str = "auto",
               threads: int | None = None, *, fallback: bool = True):
    """Load ``path`` on ``backend``; see the module docstring. Raises BackendError, BundleError
    or ValueError when nothing could load it."""
    from core.inference.backends.select import load_inferencer
    from core.inference.inferencer import BackendError

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
