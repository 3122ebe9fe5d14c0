"""Evaluate an inferencer on a test set: image and pixel metrics in one pass."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from core.evaluation.datasets import Sample, leave_out_trained, read_mask, test_samples
from core.evaluation.metrics import summarize
from core.io.images import ImageReadError, read_image

log = logging.getLogger(__name__)


@dataclass
class EvalReport:
    metrics: dict
    per_image: list[dict] = field(default_factory=list)   # path, label, defect_type, score
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    ms_per_image: float = 0.0


PIXEL_GRID = (256, 256)   # tiles mode: the grid pixel metrics are computed on


def evaluate(inferencer, samples: list[Sample] | str | Path, batch_size: int = 8,
             progress: Callable[[int, int], None] | None = None) -> EvalReport:
    if not isinstance(samples, list):
        samples = test_samples(samples)
    samples, trained = leave_out_trained(samples, getattr(inferencer, "meta", None))
    if not samples:
        raise ValueError("no test images to evaluate"
                         + (f" ({len(trained)} were used to train the model)" if trained else ""))
    # Resize mode scores at the network's resolution; tiles mode at each image's own (scaled)
    # resolution, and its maps are then resized to PIXEL_GRID for the pixel metrics, so that
    # every image weighs the same and figures compare across modes (and with the paper's).
    tiles = getattr(getattr(inferencer, "input", None), "mode", "resize") == "tiles"
    size = PIXEL_GRID if tiles else tuple(inferencer.image_size)
    labels, scores, masks, maps, rows, skipped = [], [], [], [], [], list(trained)
    any_mask = any(s.mask_path is not None for s in samples)
    t_infer, n_infer = 0.0, 0
    for i in range(0, len(samples), batch_size):
        chunk, images = [], []
        for s in samples[i:i + batch_size]:
            try:
                image = read_image(s.path)
                mask = read_mask(s, size) if any_mask else None  # a bad mask skips its sample
            except ImageReadError as exc:
                skipped.append((exc.path, str(exc)))
                continue
            images.append(image)
            chunk.append((s, mask))
        if not images:
            continue
        t0 = time.perf_counter()
        # score at model resolution: pixel metrics are computed there too
        preds = inferencer.predict_batch(images if tiles else [inferencer.preprocess(im) for im in images],
                                         batch_size)
        t_infer += time.perf_counter() - t0
        n_infer += len(images)
        for (s, mask), p in zip(chunk, preds):
            labels.append(s.label)
            scores.append(p.score)
            rows.append({"path": str(s.path), "label": s.label, "defect_type": s.defect_type,
                         "score": p.score})
            if any_mask:
                masks.append(mask)
                amap = p.anomaly_map
                if amap.shape != size:
                    amap = cv2.resize(amap, size[::-1], interpolation=cv2.INTER_AREA)
                maps.append(amap)
        if progress:
            progress(min(i + batch_size, len(samples)), len(samples))
    labels_a, scores_a = np.asarray(labels), np.asarray(scores)
    thr = (inferencer.meta.get("thresholds") or {})
    metrics = summarize(labels_a, scores_a, masks if any_mask else None, maps if any_mask else None,
                        image_threshold=None, pixel_threshold=None)
    if thr.get("ok_limit") is not None:
        from core.evaluation.metrics import f1_at
        if len(set(labels)) > 1:
            metrics["f1_at_ok_limit"] = f1_at(labels_a, scores_a, thr["ok_limit"])
            metrics["f1_at_ng_limit"] = f1_at(labels_a, scores_a, thr["ng_limit"])
    metrics["images"] = len(labels)
    metrics["defective"] = int(labels_a.sum())
    return EvalReport(metrics, rows, skipped, 1000.0 * t_infer / max(1, n_infer))
