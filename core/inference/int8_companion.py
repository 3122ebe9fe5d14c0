"""The int8 companion of a model bundle: a quantised graph for live CPU inspection, kept only
when it has been checked against fp32 on good images.

``model.limodel`` -> ``model.int8.onnx`` (ONNX Runtime QDQ: DRÆM's reconstructive network or
DSR's two decoders in int8, see :mod:`core.inference.backends.quantize`) and ``model.int8.json`` (the check). The check
scores held-out good images with both graphs; the companion is kept when the largest
difference of image score is at most ``tolerance`` (scores lie in [0, 1]), else it is
deleted and the report says why. The report carries the bundle's SHA-256, so a companion
never serves another bundle. On this project's 2-core CPU the `fast` preset inspects about
15-17 frames per second live with it against about 14 in fp32 (docs/BENCHMARKS.md).

Whether the live session uses it is :func:`core.inference.load.load_model`'s decision
(``precision="auto"``, on a CPU, unless ``LINEINSPECTOR_PRECISION=fp32``).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from core.atomic import atomic_write_text

log = logging.getLogger(__name__)

ONNX_SUFFIX = ".int8.onnx"
REPORT_SUFFIX = ".int8.json"
SCORE_TOLERANCE = 0.02  # largest |int8 score - fp32 score| accepted on the check images
AUROC_TOLERANCE = 0.005  # largest AUROC loss accepted (issue 15: int8 keeps AUROC within 0.5 points)
MIN_CHECK_IMAGES = 4


def companion_paths(bundle: str | os.PathLike) -> tuple[Path, Path]:
    """(int8 ONNX, report) next to ``bundle``."""
    b = Path(bundle)
    stem = b.with_suffix("")
    return stem.with_name(stem.name + ONNX_SUFFIX), stem.with_name(stem.name + REPORT_SUFFIX)


def read_report(bundle: str | os.PathLike) -> dict | None:
    """The companion's report, or None when there is none or it cannot be read."""
    path = companion_paths(bundle)[1]
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def build_companion(bundle: str | os.PathLike, calibration: Sequence[np.ndarray],
                    check: Sequence[np.ndarray], *, anomalous: Sequence[np.ndarray] = (),
                    auroc: Callable[[np.ndarray, np.ndarray], float] | None = None, tolerance: float = SCORE_TOLERANCE, auroc_tolerance: float = AUROC_TOLERANCE,
                    threads: int | None = None) -> dict:
    """Quantise ``bundle`` on the ``calibration`` good images, compare it with fp32 on the
    ``check`` good images (other ones), keep it if it agrees; returns the report (also
    written next to the bundle). With ``anomalous`` images (e.g. the check images with
    synthetic defects), it must also tell them from the good ones as well as fp32 does: image
    AUROC (``auroc(labels, scores)``, e.g. core.evaluation.metrics.roc_auc: inference does not
    import evaluation) at most ``auroc_tolerance`` below fp32's. Raises BackendError when it
    cannot even be tried."""
    if len(anomalous) and auroc is None:
        raise ValueError("build_companion: anomalous images need the auroc function")
    from core.inference.inferencer import BackendError
    from core.inference.backends.cache import onnx_for_bundle
    from core.inference.backends.export import file_sha256
    from core.inference.backends.onnx_backend import OnnxBackend
    from core.inference.backends.quantize import default_scope, quantize_int8
    from core.inference.bundle import read_bundle_meta

    bundle = Path(bundle)
    meta = read_bundle_meta(bundle)
    scope = default_scope(meta)
    onnx_path, report_path = companion_paths(bundle)
    if len(check) < MIN_CHECK_IMAGES:
        raise BackendError(f"the int8 check needs at least {MIN_CHECK_IMAGES} good images, "
                           f"got {len(check)}")
    sha = file_sha256(bundle)
    fp32_path = onnx_for_bundle(bundle, sha)
    tmp = onnx_path.with_name(f".{onnx_path.name}.incoming")
    try:
        quantize_int8(fp32_path, tmp, calibration, scope=scope)
        fp32 = OnnxBackend(fp32_path, None, "cpu", threads)
        int8 = OnnxBackend(tmp, None, "cpu", threads)
        a = np.array([p.score for p in fp32.predict_batch(list(check), 4)], np.float64)
        b = np.array([p.score for p in int8.predict_batch(list(check), 4)], np.float64)
        deltas = np.abs(a - b)
        worst = float(deltas.max())
        accepted = bool(np.isfinite(worst) and worst <= tolerance)
        reason = (f"int8 scores within {worst:.4f} of fp32 on {len(check)} good images" if accepted else
                  f"int8 scores differ from fp32 by up to {worst:.4f} (> {tolerance}) on "
                  f"{len(check)} good images: not used")
        aurocs = None
        if len(anomalous) and accepted:
            aurocs = _aurocs(fp32, int8, a, b, anomalous, auroc)
            lost = aurocs[0] - aurocs[1]
            if not lost <= auroc_tolerance:  # NaN refuses too
                accepted = False
                reason = (f"int8 image AUROC {aurocs[1]:.4f} against fp32's {aurocs[0]:.4f} on {len(check)} "
                          f"good and {len(anomalous)} synthetic-defect images (loses more than "
                          f"{auroc_tolerance:.3f}): not used")
            else:
                reason += (f", image AUROC {aurocs[1]:.4f} against fp32's {aurocs[0]:.4f} with "
                           f"{len(anomalous)} synthetic-defect images")
        report = {
            "bundle_sha256": sha, "accepted": accepted, "tolerance": tolerance,
            "max_abs_score_delta": round(worst, 6), "mean_abs_score_delta": round(float(deltas.mean()), 6),
            "calibration_images": len(calibration), "check_images": len(check),
            "model": meta.get("model", "draem"), "scope": scope, "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "reason": reason,
        }
        if aurocs is not None:
            report.update(anomalous_images=len(anomalous), auroc_tolerance=auroc_tolerance,
                          auroc_fp32=round(aurocs[0], 6), auroc_int8=round(aurocs[1], 6))
        if accepted:
            os.replace(tmp, onnx_path)
        else:
            onnx_path.unlink(missing_ok=True)  # a stale companion must not outlive a failed check
        atomic_write_text(report_path, json.dumps(report, indent=2))
        return report
    finally:
        tmp.unlink(missing_ok=True)


def _aurocs(fp32, int8, good_fp32: np.ndarray, good_int8: np.ndarray,
            anomalous: Sequence[np.ndarray], roc_auc: Callable) -> tuple[float, float]:
    """Image AUROC of good against anomalous images, (fp32, int8)."""
    labels = np.r_[np.zeros(len(good_fp32)), np.ones(len(anomalous))]
    out = []
    for backend, good in ((fp32, good_fp32), (int8, good_int8)):
        bad = np.array([p.score for p in backend.predict_batch(list(anomalous), 4)], np.float64)
        out.append(float(roc_auc(labels, np.r_[good, bad])))
    return out[0], out[1]


def verified_companion(bundle: str | os.PathLike, bundle_sha: Callable[[], str]) -> tuple[Path, str] | None:
    """(int8 ONNX, why it may be used) when ``bundle`` has a companion whose check accepted
    it for these very weights (``bundle_sha()``: the bundle's SHA-256), else None (logged
    when it was made for other weights)."""
    onnx_path, _ = companion_paths(bundle)
    report = read_report(bundle)
    if not onnx_path.is_file() or not report or not report.get("accepted"):
        return None
    if report.get("bundle_sha256") != bundle_sha():
        log.warning("%s was made for other weights than %s; not used", onnx_path, bundle)
        return None
    return onnx_path, f"verified int8: {report['reason']}"


def copy_companion(src_bundle: str | os.PathLike, dst_bundle: str | os.PathLike) -> bool:
    """Copy ``src_bundle``'s companion files (if any) beside ``dst_bundle``; True if copied."""
    import shutil

    copied = False
    for src, dst in zip(companion_paths(src_bundle), companion_paths(dst_bundle)):
        if src.is_file():
            shutil.copyfile(src, dst)
            copied = True
    return copied
