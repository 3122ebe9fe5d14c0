"""The one way to load a model for inference: :func:`load_model`.

It owns every choice between a model file and a running
:class:`~core.inference.inferencer.Inferencer`:

* the backend (the names are in :mod:`core.inference.backends.names`): ``pytorch``,
  ``onnxruntime``, ``openvino`` or an alias, ``reference`` (the trained PyTorch model as it
  is, that every backend is checked against) or ``auto``: the fastest fp32 backend measured
  here, the decision cached per bundle and machine (:mod:`core.inference.backends.select`
  builds them);
* the precision: ``fp32`` (the default) never trades accuracy for speed; with ``auto`` (the
  live session) an ``auto`` load on the CPU uses the bundle's verified int8 companion
  (:mod:`core.inference.int8_companion`) unless ``LINEINSPECTOR_PRECISION=fp32``;
* the fallback: with ``fallback`` a bundle its backend cannot load is loaded on the reference
  backend, the reason logged and kept in ``.selection`` (the status bar's tooltip).

Every inferencer returned is warmed up and has ``.selection`` (``backend``, ``reason``);
:mod:`core.inference.labels` names it for the operator. The bundle's SHA-256 (the
companion's check, the backend cache, the ONNX export cache) is computed at most once per
load, not at all when ``bundle_sha`` (the caller's own hash of the file) is given.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.inference.inferencer import Inferencer

from core.inference.backends.names import REFERENCE, normalize_backend

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "auto")


def load_model(path: str | os.PathLike, backend: str = "auto", device: str = "auto",
               threads: int | None = None, *, precision: str = "fp32", fallback: bool = True,
               bundle_sha: str | None = None) -> Inferencer:
    """Load ``path`` (a bundle, an exported .onnx or an OpenVINO .xml) on ``backend``; see the
    module docstring. Raises BackendError, BundleError or ValueError when nothing could."""
    from core.inference.backends import select
    from core.inference.inferencer import BackendError

    name = normalize_backend(backend)
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision '{precision}' (choose from {', '.join(PRECISIONS)})")
    path = Path(path)
    if not path.is_file():
        raise BackendError(f"{path}: model file not found")
    sha = _OnceSha(path, bundle_sha)
    if name == REFERENCE:
        return _reference(path, device, threads, "requested")
    if name == "auto" and precision == "auto" and path.suffix.lower() not in (".onnx", ".xml"):
        int8 = _int8_companion(path, device, threads, sha)
        if int8 is not None:
            return int8
    try:
        return select.pick(path, name, device, threads, sha)
    except (BackendError, RuntimeError, ValueError, OSError) as exc:
        if not fallback or path.suffix.lower() in (".onnx", ".xml"):
            raise  # nothing the reference backend could do better
        log.warning("inference backend '%s' failed to load %s (%s); using the reference "
                    "PyTorch backend", name, path, exc)
        return _reference(path, device, threads, f"fallback: {name} failed ({exc})")


class _OnceSha:
    """The file's SHA-256, computed on first use and only then (or the one given)."""

    def __init__(self, path: Path, known: str | None) -> None:
        self.path, self.value = path, known

    def __call__(self) -> str:
        if self.value is None:
            from core.inference.backends.export import file_sha256

            self.value = file_sha256(self.path)
        return self.value


def _reference(path: Path, device: str, threads: int | None, reason: str) -> Inferencer:
    from core.inference.backends.select import build

    inf = build(REFERENCE, path, device, threads)
    inf.selection = {"backend": REFERENCE, "reason": reason}
    return inf


def _int8_companion(path: Path, device: str, threads: int | None, sha: _OnceSha) -> Inferencer | None:
    """The bundle's verified int8 companion on ONNX Runtime's CPU provider, or None: not on a
    CPU, ``LINEINSPECTOR_PRECISION=fp32``, no accepted companion for these weights, or it
    fails to load (logged)."""
    from core.settings_env import env_precision

    if env_precision() == "fp32" or not _on_cpu(device):
        return None
    from core.inference.backends.onnx_backend import OnnxBackend
    from core.inference.inferencer import BackendError
    from core.inference.int8_companion import companion_paths, verified_companion

    try:
        found = verified_companion(path, sha)
        if found is None:
            return None
        onnx_path, reason = found
        backend = OnnxBackend(onnx_path, None, "cpu", threads)
    except (BackendError, OSError) as exc:
        log.warning("int8 companion %s cannot be used (%s); using fp32", companion_paths(path)[0], exc)
        return None
    backend.selection = {"backend": backend.backend_name, "reason": reason}
    return backend


def _on_cpu(device: str) -> bool:
    from core.device import select_device

    try:
        return select_device(device).type == "cpu"
    except ValueError:
        return False  # a bad device name: the normal loading path reports it
