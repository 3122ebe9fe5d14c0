"""Anomaly-detection metrics, exact and vectorised (numpy + OpenCV only).

Convention: a higher score means "more anomalous"; label 1 is defective; a prediction is
``score >= threshold``. Tied scores form one ROC/PR step (no arbitrary ordering of ties).

Everything is built on two sorted arrays, the positive and the negative scores, so the
pixel metrics sort each pixel once (float32) and share the result: ~20M pixels take about
a second and ~100 MB beyond the maps themselves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

# ---------------------------------------------------------------- validation and splitting


def _split(labels, scores, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (ascending) positive and negative scores, after checking the inputs."""
    y = np.asarray(labels)
    s = np.asarray(scores)
    if y.ndim != 1 or s.ndim != 1 or y.shape != s.shape:
        raise ValueError(
            f"labels and scores must be 1-D of equal length, got shapes {y.shape} and {s.shape}"
        )
    if y.dtype != bool:
        bad = ~np.isin(y, (0, 1))
        if bad.any():
            raise ValueError(f"labels must be 0 or 1, found {y[bad][0]!r}")
    if not np.issubdtype(s.dtype, np.number) or np.issubdtype(s.dtype, np.complexfloating):
        raise ValueError(f"scores must be real numbers, got dtype {s.dtype}")
    s = s.astype(dtype)
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or infinity")
    y = y.astype(bool)
    pos, neg = s[y], s[~y]
    pos.sort()
    neg.sort()
    return pos, neg


def _need(pos: np.ndarray, neg: np.ndarray | None, what: str) -> None:
    if pos.size == 0:
        raise ValueError(f"{what} needs at least one defective (label 1) sample; none given")
    if neg is not None and neg.size == 0:
        raise ValueError(f"{what} needs at least one good (label 0) sample; none given")


def _count_ge(sorted_values: np.ndarray, thresholds) -> np.ndarray:
    """How many of ``sorted_values`` are >= each threshold (same dtype as the values)."""
    return sorted_values.size - np.searchsorted(sorted_values, thresholds, side="left")


def _as_threshold(value: float, dtype: np.dtype) -> np.floating:
    """Smallest ``dtype`` number t' with (s >= value) == (s >= t') for every ``dtype`` s."""
    t = np.asarray(value, dtype=dtype)[()]
    if float(t) < value:
        t = np.nextafter(t, dtype.type(np.inf))
    return t


# ---------------------------------------------------------------- core computations


def _auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney U / (P*N); a tie counts one half (= trapezoid over tie-grouped ROC)."""
    below = np.searchsorted(neg, pos, side="left").sum(dtype=np.int64)
    below_or_tied = np.searchsorted(neg, pos, side="right").sum(dtype=np.int64)
    return float((below + below_or_tied) / (2.0 * pos.size * neg.size))


def _pos_steps(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct positive scores u (ascending), #positives == u, #positives >= u."""
    starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
    counts = np.diff(np.r_[starts, pos.size])
    return pos[starts], counts, pos.size - starts


def _average_precision(pos: np.ndarray, neg: np.ndarray) -> float:
    """sum over thresholds of (recall step) * precision; recall only steps at positive scores."""
    values, counts, tp = _pos_steps(pos)
    fp = _count_ge(neg, values)
    return float(np.sum(counts * (tp / (tp + fp))) / pos.size)


def _best_f1(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """Highest threshold reaching the maximal F1.

    Only positive scores need checking: between two of them, raising the threshold drops
    false positives and keeps true positives, so F1 cannot be lower.
    """
    values, _, tp = _pos_steps(pos)
    fp = _count_ge(neg, values)
    f1 = 2.0 * tp / (tp + fp + pos.size)
    best = np.flatnonzero(f1 == f1.max())[-1]  # values ascend: last = highest threshold
    return float(values[best]), float(f1[best])


def _f1_at(pos: np.ndarray, neg: np.ndarray, threshold: float) -> float:
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold}")
    t = _as_threshold(threshold, pos.dtype)
    tp = int(_count_ge(pos, t))
    fp = int(_count_ge(neg, t))
    return 2.0 * tp / (tp + fp + pos.size)


# ---------------------------------------------------------------- image-level API


def roc_curve(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC points ``(fpr, tpr, thresholds)``, one per distinct score, thresholds descending.

    The first point is (0, 0) at threshold +inf. Needs both classes (ValueError otherwise).
    """
    pos, neg = _split(labels, scores)
    _need(pos, neg, "roc_curve")
    thresholds = np.unique(np.concatenate([pos, neg]))[::-1]
    tpr = _count_ge(pos, thresholds) / pos.size
    fpr = _count_ge(neg, thresholds) / neg.size
    return np.r_[0.0, fpr], np.r_[0.0, tpr], np.r_[np.inf, thresholds]


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve; ValueError if only one class is present."""
    pos, neg = _split(labels, scores)
    _need(pos, neg, "roc_auc")
    return _auroc(pos, neg)


def average_precision(labels, scores) -> float:
    """Step-wise AP, ``sum_n (R_n - R_{n-1}) P_n``, as sklearn's average_precision_score."""
    pos, neg = _split(labels, scores)
    _need(pos, None, "average_precision")
    return _average_precision(pos, neg)


def best_f1_threshold(labels, scores) -> tuple[float, float]:
    """``(threshold, f1)`` maximising F1 of ``score >= threshold``; the highest such threshold."""
    pos, neg = _split(labels, scores)
    _need(pos, None, "best_f1_threshold")
    return _best_f1(pos, neg)


def f1_at(labels, scores, threshold: float) -> float:
    """F1 of the prediction ``score >= threshold``; ValueError without defective samples."""
    pos, neg = _split(labels, scores)
    _need(pos, None, "f1_at")
    return _f1_at(pos, neg, float(threshold))


def threshold_for_false_reject(good_scores, rate: float) -> float:
    """Smallest threshold rejecting at most ``rate`` of the good samples (``score >= t``).

    With n sorted good scores and k = floor(rate * n) allowed rejections, every threshold
    above the (k+1)-th largest score qualifies; the result is the next representable number
    above it (in the scores' float precision, so a float32 comparison stays exact). This is
    the order-statistic (empirical quantile) at 1 - rate. ``rate`` must be in [0, 1).
    """
    s = np.asarray(good_scores)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"good_scores must be a non-empty 1-D array, got shape {s.shape}")
    if not np.issubdtype(s.dtype, np.number) or np.issubdtype(s.dtype, np.complexfloating):
        raise ValueError(f"good_scores must be real numbers, got dtype {s.dtype}")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"false-reject rate must be in [0, 1), got {rate}")
    s = np.sort(s if np.issubdtype(s.dtype, np.floating) else s.astype(np.float64))
    if not np.isfinite(s).all():
        raise ValueError("good_scores contain NaN or infinity")
    k = math.floor(rate * s.size + 1e-9)
    return float(np.nextafter(s[s.size - 1 - k], s.dtype.type(np.inf)))


# ---------------------------------------------------------------- pixel-level API


class _PixelSets:
    """All pixels split into sorted float32 negatives and (score, region weight) positives."""

    def __init__(self, masks: Sequence[np.ndarray], maps: Sequence[np.ndarray]) -> None:
        if len(masks) != len(maps):
            raise ValueError(f"got {len(masks)} masks but {len(maps)} anomaly maps")
        if not masks:
            raise ValueError("pixel metrics need at least one (mask, map) pair")
        defect = []
        for i, (mask, amap) in enumerate(zip(masks, maps)):
            mask, amap = np.asarray(mask), np.asarray(amap)
            if mask.ndim != 2 or mask.shape != amap.shape:
                raise ValueError(
                    f"image {i}: mask {mask.shape} and map {amap.shape} must be equal HxW shapes"
                )
            defect.append(mask != 0)
        n_neg = sum(int(d.size - np.count_nonzero(d)) for d in defect)
        self.neg = np.empty(n_neg, dtype=np.float32)
        pos_parts, weight_parts, region_sizes = [], [], []
        at = 0
        for d, amap in zip(defect, maps):
            amap = np.asarray(amap, dtype=np.float32)
            part = amap[~d]
            self.neg[at : at + part.size] = part
            at += part.size
            if d.any():
                count, regions = cv2.connectedComponents(d.view(np.uint8), connectivity=8)
                sizes = np.bincount(regions[d], minlength=count)
                pos_parts.append(amap[d])
                weight_parts.append(1.0 / sizes[regions[d]])
                region_sizes.append(count - 1)
        self.n_regions = sum(region_sizes)
        pos = np.concatenate(pos_parts) if pos_parts else np.empty(0, np.float32)
        if not (np.isfinite(self.neg).all() and np.isfinite(pos).all()):
            raise ValueError("anomaly maps contain NaN or infinity")
        self.neg.sort()
        order = np.argsort(pos, kind="stable")
        self.pos = pos[order]
        weights = np.concatenate(weight_parts)[order] if weight_parts else np.empty(0)
        # overlap_from[i] = sum of region-normalised weights of pos[i:], over all regions
        self.overlap_from = np.r_[np.cumsum(weights[::-1])[::-1], 0.0] / max(self.n_regions, 1)

    def pro(self, thresholds: np.ndarray, side: str) -> np.ndarray:
        """Mean per-region overlap of ``score >= t`` (side='left') or ``score > t`` ('right')."""
        return self.overlap_from[np.searchsorted(self.pos, thresholds, side=side)]

    def aupro(self, fpr_limit: float, num_thresholds: int) -> float:
        n = self.neg.size
        # thresholds at negative scores spaced evenly in FPR over [0, fpr_limit]; at each one
        # the exact points just above it and at it, so a tie group is one straight segment
        ranks = np.ceil(np.linspace(0.0, fpr_limit * n, num_thresholds + 1)).astype(np.int64)
        t = np.unique(self.neg[n - np.clip(ranks, 1, n)])[::-1]
        fpr_gt = (n - np.searchsorted(self.neg, t, side="right")) / n
        fpr_ge = (n - np.searchsorted(self.neg, t, side="left")) / n
        fpr = np.r_[0.0, np.column_stack([fpr_gt, fpr_ge]).ravel()]
        pro = np.r_[0.0, np.column_stack([self.pro(t, "right"), self.pro(t, "left")]).ravel()]
        f0, f1, p0, p1 = fpr[:-1], fpr[1:], pro[:-1], pro[1:]
        end = np.minimum(f1, fpr_limit)
        width = np.clip(end - f0, 0.0, None)
        span = np.where(f1 > f0, f1 - f0, 1.0)
        p_end = p0 + (p1 - p0) * np.clip((end - f0) / span, 0.0, 1.0)
        return float(np.sum(width * (p0 + p_end) / 2.0) / fpr_limit)


def _check_pixels(sets: _PixelSets, what: str) -> None:
    if sets.pos.size == 0:
        raise ValueError(f"{what} needs defect pixels; every mask is empty")
    if sets.neg.size == 0:
        raise ValueError(f"{what} needs good pixels; every mask is all defect")


def pixel_auroc_ap(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray]) -> tuple[float, float]:
    """Pixel AUROC and AP over all pixels of all images (mask non-zero = defect)."""
    sets = _PixelSets(masks, maps)
    _check_pixels(sets, "pixel_auroc_ap")
    return _auroc(sets.pos, sets.neg), _average_precision(sets.pos, sets.neg)


def aupro(
    masks: Sequence[np.ndarray],
    maps: Sequence[np.ndarray],
    fpr_limit: float = 0.3,
    num_thresholds: int = 200,
) -> float:
    """Normalised area under the per-region-overlap curve up to ``fpr_limit`` (MVTec AD).

    Regions are the 8-connected components of each mask. At a threshold t, PRO is the mean
    over all regions of the fraction of the region with score >= t, and FPR the fraction of
    good pixels with score >= t. ``num_thresholds`` thresholds are taken at good-pixel scores
    evenly spaced in FPR over [0, fpr_limit]; the curve is exact at each (both sides of a
    tie group), linear in between, interpolated at the limit, and the area divided by
    ``fpr_limit`` gives a value in [0, 1]. With at least as many thresholds as distinct
    good-pixel scores the result is exact.
    """
    if not 0.0 < fpr_limit <= 1.0:
        raise ValueError(f"fpr_limit must be in (0, 1], got {fpr_limit}")
    if int(num_thresholds) != num_thresholds or num_thresholds < 1:
        raise ValueError(f"num_thresholds must be a positive integer, got {num_thresholds}")
    sets = _PixelSets(masks, maps)
    _check_pixels(sets, "aupro")
    return sets.aupro(float(fpr_limit), int(num_thresholds))


# ---------------------------------------------------------------- summary


def summarize(
    image_labels,
    image_scores,
    masks: Sequence[np.ndarray | None] | None = None,
    maps: Sequence[np.ndarray] | None = None,
    image_threshold: float | None = None,
    pixel_threshold: float | None = None,
) -> dict:
    """Image metrics, and pixel metrics when ``masks`` are given; undefined ones are None.

    Keys: image_auroc, image_ap, image_f1 (at ``image_threshold``, else at the best-F1
    threshold), image_threshold; with masks also pixel_auroc, pixel_ap, aupro, pixel_f1,
    pixel_threshold. A None mask of a good image counts as all-good; a None mask of a
    defective image drops that image from the pixel metrics.
    """
    pos, neg = _split(image_labels, image_scores)
    out: dict = dict.fromkeys(("image_auroc", "image_ap", "image_f1", "image_threshold"))
    if pos.size and neg.size:
        out["image_auroc"] = _auroc(pos, neg)
    if pos.size:
        out["image_ap"] = _average_precision(pos, neg)
        if image_threshold is None:
            out["image_threshold"], out["image_f1"] = _best_f1(pos, neg)
        else:
            out["image_threshold"] = float(image_threshold)
            out["image_f1"] = _f1_at(pos, neg, float(image_threshold))
    elif image_threshold is not None:
        out["image_threshold"] = float(image_threshold)
    if masks is None:
        return out

    labels = np.asarray(image_labels)
    if maps is None or len(maps) != len(masks) or len(masks) != labels.size:
        raise ValueError(
            f"pixel metrics need one mask and one map per image: {labels.size} images, "
            f"{len(masks)} masks, {'no' if maps is None else len(maps)} maps"
        )
    used_masks, used_maps = [], []
    for label, mask, amap in zip(labels, masks, maps):
        if mask is None and label == 0:
            mask = np.zeros(np.shape(amap), dtype=np.uint8)
        if mask is not None:
            used_masks.append(mask)
            used_maps.append(amap)
    pixel = dict.fromkeys(("pixel_auroc", "pixel_ap", "aupro", "pixel_f1", "pixel_threshold"))
    if pixel_threshold is not None:
        pixel["pixel_threshold"] = float(pixel_threshold)
    if used_masks:
        sets = _PixelSets(used_masks, used_maps)
        if sets.pos.size:
            pixel["pixel_ap"] = _average_precision(sets.pos, sets.neg)
            if pixel_threshold is None:
                pixel["pixel_threshold"], pixel["pixel_f1"] = _best_f1(sets.pos, sets.neg)
            else:
                pixel["pixel_f1"] = _f1_at(sets.pos, sets.neg, float(pixel_threshold))
            if sets.neg.size:
                pixel["pixel_auroc"] = _auroc(sets.pos, sets.neg)
                pixel["aupro"] = sets.aupro(0.3, 200)
    out.update(pixel)
    return out
