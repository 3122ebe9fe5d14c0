"""Threshold calibration from held-out good images (and defects where they exist)."""

from __future__ import annotations

import numpy as np

from core.evaluation.metrics import best_f1_threshold, threshold_for_false_reject
from core.recipe import Thresholds

DEFAULT_FALSE_REJECT = 0.01


def score_stats(scores) -> dict:
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        return {}
    q = np.quantile(s, [0.5, 0.9, 0.99])
    return {"count": int(s.size), "mean": float(s.mean()), "std": float(s.std()),
            "min": float(s.min()), "max": float(s.max()),
            "p50": float(q[0]), "p90": float(q[1]), "p99": float(q[2])}


def calibrate(good_scores, false_reject: float = DEFAULT_FALSE_REJECT,
              defect_scores=None, pixel_threshold: float | None = None) -> Thresholds:
    """OK / NG limits and a pixel threshold.

    - ok_limit: at most ``false_reject`` of the good parts score at or above it (they
      land in REVIEW, not NG).
    - ng_limit: with known defects, the F1-optimal image threshold (never below ok_limit);
      otherwise ok_limit plus two standard deviations of the good scores.
    - pixel: F1-optimal when computed by the caller from masks, else 0.5, the softmax
      decision boundary the network was trained for.
    """
    good = np.asarray(good_scores, dtype=np.float64)
    if good.size == 0:
        raise ValueError("calibration needs at least one held-out good image")
    ok = float(threshold_for_false_reject(good, false_reject))
    if defect_scores is not None and len(defect_scores):
        labels = np.r_[np.zeros(good.size), np.ones(len(defect_scores))]
        thr, _ = best_f1_threshold(labels, np.r_[good, np.asarray(defect_scores, np.float64)])
        ng = max(ok, float(thr))
    else:
        ng = ok + 2.0 * float(good.std()) + 1e-6
    ng = min(max(ng, ok), 1.0)
    ok = min(ok, ng)
    return Thresholds(ok, ng, float(pixel_threshold) if pixel_threshold is not None else 0.5)
