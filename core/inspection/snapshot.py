"""Snapshot: the displayed result saved as files (image, overlay, heat map, result JSON)."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import cv2
import numpy as np

from core.atomic import atomic_write_bytes, atomic_write_text
from core.display import heatmap_bgr, render_overlay
from core.inspection.result import InspectionResult


def _png(image: np.ndarray, what: str) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"snapshot: cannot encode the {what} as PNG (shape {image.shape}, dtype {image.dtype})")
    return buf.tobytes()


def save_snapshot(result: InspectionResult, folder: str | Path, opacity: float = 0.45) -> Path:
    """Write ``<stem>.png`` (image), ``<stem>_overlay.png``, ``<stem>_heat.png`` and
    ``<stem>.json`` into ``folder``; returns the path of the JSON file.

    The verdict and thresholds are those of ``result`` (re-judge it first to snapshot a preview).
    """
    folder = Path(folder)
    stamp = _dt.datetime.fromtimestamp(result.frame.wall_time)
    stem = f"{stamp:%Y%m%d-%H%M%S}-{stamp.microsecond // 1000:03d}_f{result.frame.frame_id}_{result.verdict}"
    n, base = 1, stem
    while (folder / f"{stem}.json").exists():
        n += 1
        stem = f"{base}-{n}"
    t = result.thresholds
    overlay = render_overlay(result.image, result.anomaly_map, alpha=opacity, pixel_threshold=t.pixel)
    files = {"image": f"{stem}.png", "overlay": f"{stem}_overlay.png", "heatmap": f"{stem}_heat.png"}
    atomic_write_bytes(folder / files["image"], _png(result.image, "image"))
    atomic_write_bytes(folder / files["overlay"], _png(overlay, "overlay"))
    atomic_write_bytes(folder / files["heatmap"], _png(heatmap_bgr(result.anomaly_map), "heat map"))
    info = {
        "time": stamp.isoformat(timespec="milliseconds"), "recipe": result.recipe,
        "model_version": result.model_version, "frame_id": result.frame.frame_id,
        "source": result.frame.source_id, "score": result.score, "verdict": str(result.verdict),
        "thresholds": {"ok_limit": t.ok_limit, "ng_limit": t.ng_limit, "pixel": t.pixel},
        "latency_ms": result.latency_ms, "defect_pixels": result.defect_pixels(), "files": files,
    }
    path = folder / f"{stem}.json"
    atomic_write_text(path, json.dumps(info, indent=2))
    return path
