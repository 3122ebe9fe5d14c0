"""Building the backends for :func:`core.inference.load.load_model` (its private helpers).

:func:`build` constructs one named backend. :func:`pick` is that, or for "auto" the fastest
one here: each available fp32 backend is built in turn, checked against the first one
(PyTorch) on a fixed random input and timed for a few runs; the fastest is kept and the
decision is cached under the bundle's SHA-256 and a fingerprint of the machine, so the
next load only builds the winner. Reduced-precision models (int8 ONNX files) are used only
when asked for by path: "auto" never trades accuracy for speed on its own.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.inference.inferencer import BackendError, Inferencer
from core.inference.backends.names import BACKENDS, REFERENCE

log = logging.getLogger(__name__)

AGREEMENT_TOL = {"cpu": 1e-3, "cuda": 2e-2}  # safety net only; the tests check 1e-4 on CPU


def available_backends() -> list[str]:
    """Backends whose packages are importable here (PyTorch always is)."""
    found = ["pytorch"]
    for name, module in (("onnxruntime", "onnxruntime"), ("openvino", "openvino")):
        try:
            __import__(module)
        except ImportError:
            continue
        found.append(name)
    return found


def _resolve_device(device: str) -> str:
    from core.device import select_device

    try:
        return select_device(device).type
    except ValueError as exc:
        raise BackendError(str(exc)) from None


def build(name: str, path: Path, device: str = "auto", threads: int | None = None,
          sha: Callable[[], str] | None = None) -> Inferencer:
    """One backend by its canonical name (not "auto") from a bundle (.limodel), an .onnx
    file or an OpenVINO .xml, warmed up; ``sha()`` gives the file's SHA-256 if it is needed."""
    suffix = path.suffix.lower()
    if suffix in (".onnx", ".xml") and name in ("pytorch", REFERENCE):
        raise BackendError(f"{path}: the {name} backend needs a model bundle (.limodel), "
                           f"not an exported {suffix} file")
    if suffix == ".xml" and name != "openvino":
        raise BackendError(f"{path}: an OpenVINO IR file runs on the openvino backend only")
    if name in ("pytorch", REFERENCE):
        from core.inference.bundle import load_bundle

        bundle = load_bundle(path)
        if name == REFERENCE:
            from core.inference.backends.reference import ReferenceBackend

            return ReferenceBackend(bundle.build_model(), bundle.meta, device, threads, warmup_runs=1)
        from core.inference.backends.torch_backend import TorchBackend

        return TorchBackend(bundle.build_model(), bundle.meta, device, threads)
    if suffix in (".onnx", ".xml"):
        graph = path
    else:
        from core.inference.backends.cache import onnx_for_bundle

        graph = onnx_for_bundle(path, sha() if sha is not None else None)
    if name == "onnxruntime":
        from core.inference.backends.onnx_backend import OnnxBackend

        return OnnxBackend(graph, None, device, threads)
    from core.inference.backends.openvino_backend import OpenVinoBackend

    return OpenVinoBackend(graph, None, device, threads)


def _candidates(path: Path, device_type: str) -> list[str]:
    have = available_backends()
    if path.suffix.lower() == ".xml":
        return ["openvino"]
    order = list(BACKENDS)
    if path.suffix.lower() == ".onnx":
        order = ["onnxruntime", "openvino"]
    if device_type == "cuda":
        order = [b for b in order if b != "openvino"]
    return [b for b in order if b in have]


def _time_backend(backend: Inferencer, sample: np.ndarray, runs: int) -> tuple[float, float]:
    """(median milliseconds per call, score on the sample) after the backend's own warm-up."""
    times, score = [], 0.0
    for _ in range(max(1, runs)):
        t0 = time.perf_counter()
        _, scores = backend._infer(sample)
        times.append((time.perf_counter() - t0) * 1000.0)
        score = float(scores[0])
    return statistics.median(times), score


def pick(path: Path, name: str, device: str, threads: int | None, sha: Callable[[], str], *,
         runs: int = 3, use_cache: bool = True) -> Inferencer:
    """``name`` built, or for "auto" the fastest backend measured here (see the module
    docstring); ``.selection`` says how it was chosen (requested / cached / measured, with
    timings)."""
    from core.inference.backends import cache
    from core.inference.backends.onnx_backend import default_threads

    if name != "auto":
        chosen = build(name, path, device, threads, sha)
        chosen.selection = {"backend": chosen.backend_name, "reason": "requested"}
        return chosen

    device_type = _resolve_device(device)
    candidates = _candidates(path, device_type)
    if not candidates:
        raise BackendError(f"{path}: no installed backend can run this file")
    fingerprint = cache.machine_fingerprint(device_type, default_threads(threads))
    if use_cache:
        decision = cache.read_decision(sha(), fingerprint)
        cand = (decision or {}).get("candidate")
        if decision and cand in candidates:
            try:
                chosen = build(cand, path, device, threads, sha)
            except BackendError as exc:
                log.warning("cached backend choice %s failed (%s); measuring again", cand, exc)
            else:
                chosen.selection = {**decision, "reason": "cached"}
                log.info("inference backend: %s (cached choice)", chosen.describe())
                return chosen

    sample = _sample_input(*_image_size(path))
    timings: dict[str, float | str] = {}
    best: Inferencer | None = None
    best_ms, best_cand, ref_score = float("inf"), "", None
    for cand in candidates:
        try:
            inst = build(cand, path, device, threads, sha)
            ms, score = _time_backend(inst, sample, runs)
        except (BackendError, RuntimeError, ValueError, OSError) as exc:
            timings[cand] = f"unavailable: {exc}"
            continue
        if ref_score is None:
            ref_score = score
        elif abs(score - ref_score) > AGREEMENT_TOL.get(device_type, 1e-3):
            timings[cand] = f"rejected: score {score:.6f} disagrees with {ref_score:.6f}"
            continue
        timings[cand] = round(ms, 2)
        if ms < best_ms:
            best, best_ms, best_cand = inst, ms, cand
        del inst
    if best is None:
        raise BackendError(f"{path}: no backend could run the model ({timings})")
    decision = {"backend": best.backend_name, "candidate": best_cand, "timings_ms": timings,
                "device": device_type,
                "measured": time.strftime("%Y-%m-%d %H:%M:%S")}
    if use_cache:
        try:
            cache.write_decision(sha(), fingerprint, decision)
        except OSError as exc:
            log.warning("could not cache the backend choice: %s", exc)
    best.selection = {**decision, "reason": "measured"}
    log.info("inference backend: %s (fastest of %s)", best.describe(), timings)
    return best


def _sample_input(h: int, w: int) -> np.ndarray:
    """Smooth, image-like input (white noise can take unrepresentative slow paths)."""
    import cv2

    coarse = np.random.default_rng(0).random((max(1, h // 16), max(1, w // 16), 3), dtype=np.float32)
    return np.ascontiguousarray(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)[None])


def _image_size(path: Path) -> tuple[int, int]:
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        from core.inference.backends.export import ExportError, read_onnx_meta

        try:
            meta = read_onnx_meta(path)
        except ExportError as exc:
            raise BackendError(str(exc)) from None
    elif suffix == ".xml":
        return _xml_image_size(path)
    else:
        from core.inference.bundle import BundleError, read_bundle_meta

        try:
            meta = read_bundle_meta(path)
        except BundleError as exc:
            raise BackendError(str(exc)) from None
    h, w = (int(v) for v in meta["image_size"])
    return h, w


def _xml_image_size(path: Path) -> tuple[int, int]:
    import json

    from core.inference.backends.export import META_KEY
    from core.inference.backends.openvino_backend import require_openvino

    model = require_openvino().Core().read_model(str(path))
    if not model.has_rt_info([META_KEY]):
        raise BackendError(f"{path}: an OpenVINO model but not one exported by LineInspector")
    h, w = (int(v) for v in json.loads(model.get_rt_info([META_KEY]).astype(str))["image_size"])
    return h, w
