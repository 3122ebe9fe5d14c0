"""Validation of a freshly trained bundle (no Qt): scores, ROC, proposed limits, worst cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.evaluation.datasets import (
    Sample, is_mvtec_layout, leave_out_trained, read_mask, test_samples,
)
from core.evaluation.calibration import calibrate
from core.io.images import list_images, load_images
from core.recipe import Preprocessing, Roi, Thresholds, apply_preprocessing


@dataclass
class Scored:
    path: Path
    image: np.ndarray
    score: float
    anomaly_map: np.ndarray
    mask: np.ndarray | None = None


@dataclass
class ValidationResult:
    good: list[Scored]
    defects: list[Scored]
    thresholds: Thresholds
    auroc: float | None = None
    roc: tuple[np.ndarray, np.ndarray] | None = None
    pixel_auroc: float | None = None
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def worst_good(self, n: int = 4) -> list[Scored]:
        return sorted(self.good, key=lambda s: -s.score)[:n]

    def hardest_defects(self, n: int = 4) -> list[Scored]:
        """The defects that scored lowest: the ones closest to passing as good."""
        return sorted(self.defects, key=lambda s: s.score)[:n]

    def summary(self) -> dict:
        """Figures stored with the model version (plain JSON types)."""
        good = np.array([s.score for s in self.good], np.float64)
        out = {"holdout_good": len(self.good), "defects": len(self.defects),
               "good_max": float(good.max()) if good.size else None,
               "good_mean": float(good.mean()) if good.size else None,
               "thresholds": self.thresholds.to_dict()}
        if self.defects:
            out["defect_min"] = float(min(s.score for s in self.defects))
            ok, ng = self.thresholds.ok_limit, self.thresholds.ng_limit
            out["defects_passed_as_ok"] = int(sum(s.score < ok for s in self.defects))
            out["good_rejected_ng"] = int(np.sum(good >= ng))
        if self.auroc is not None:
            out["auroc"] = float(self.auroc)
        if self.pixel_auroc is not None:
            out["pixel_auroc"] = float(self.pixel_auroc)
        return out


def defect_samples(folder: str | Path) -> list[Sample]:
    """Known defective images: an MVTec-layout test set (its defect classes), or a plain
    folder of defect images with optional masks in ``masks/`` (``<stem>.png``/``<stem>_mask.png``)."""
    root = Path(folder)
    if is_mvtec_layout(root):
        return [s for s in test_samples(root) if s.label == 1]
    masks = root / "masks"
    out = []
    for p in list_images(root):
        mask = next((m for m in (masks / f"{p.stem}_mask.png", masks / f"{p.stem}.png") if m.is_file()), None)
        out.append(Sample(p, 1, "defect", mask))
    if not out:
        raise ValueError(f"no images in the defect folder '{root}'")
    return out


def _crop(image: np.ndarray, roi: Roi | None, pre: Preprocessing) -> np.ndarray:
    """Full camera frames are cropped to the ROI; images already at ROI size are kept."""
    if roi is None or image.shape[:2] == (roi.h, roi.w):
        return image
    try:
        return apply_preprocessing(image, pre, roi)
    except ValueError:
        return image  # another size: score the whole image


def _score(inferencer, paths: list[Path], roi, pre, skipped) -> list[Scored]:
    loaded, bad = load_images(paths)
    skipped.extend(bad)
    images = [_crop(img, roi, pre) for _, img in loaded]
    preds = inferencer.predict_batch(images) if images else []
    return [Scored(p, img, float(pr.score), pr.anomaly_map) for (p, _), img, pr in zip(loaded, images, preds)]


def validate(inferencer, good_paths: list[Path], defects: list[Sample] | None = None, *,
             false_reject: float = 0.01, roi: Roi | None = None,
             preprocessing: Preprocessing | None = None) -> ValidationResult:
    """Score held-out good images and known defects; propose limits; ROC where defects exist."""
    from core.evaluation.metrics import pixel_auroc_ap, roc_auc, roc_curve

    pre = preprocessing or Preprocessing()
    skipped: list[tuple[Path, str]] = []
    good = _score(inferencer, list(good_paths), roi, pre, skipped)
    if not good:
        raise ValueError("no readable held-out good image to validate with")
    bad: list[Scored] = []
    defects, trained = leave_out_trained(list(defects or []), getattr(inferencer, "meta", None))
    skipped.extend(trained)  # hold-out honesty: never counted, always reported
    if defects:
        by_path = {s.path: s for s in defects}
        bad = _score(inferencer, [s.path for s in defects], roi, pre, skipped)
        for s in bad:
            sample = by_path[s.path]
            if sample.mask_path is not None:
                try:
                    s.mask = read_mask(sample, s.anomaly_map.shape)
                except ValueError as exc:
                    skipped.append((sample.mask_path, str(exc)))
    g = [s.score for s in good]
    d = [s.score for s in bad]
    result = ValidationResult(good, bad, calibrate(g, false_reject, d or None), skipped=skipped)
    if bad:
        labels = np.r_[np.zeros(len(g)), np.ones(len(d))]
        scores = np.r_[g, d]
        result.auroc = roc_auc(labels, scores)
        fpr, tpr, _ = roc_curve(labels, scores)
        result.roc = (np.asarray(fpr), np.asarray(tpr))
        with_masks = [s for s in bad if s.mask is not None]
        if with_masks and any(m.mask.any() for m in with_masks):
            masks = [s.mask for s in with_masks] + [np.zeros_like(s.anomaly_map, np.uint8) for s in good]
            maps = [s.anomaly_map for s in with_masks] + [s.anomaly_map for s in good]
            result.pixel_auroc = pixel_auroc_ap(masks, maps)[0]
    return result
