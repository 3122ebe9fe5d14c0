"""Evaluation: dataset folders (MVTec AD layout), anomaly-detection metrics, validation of a trained bundle."""

from core.evaluation.datasets import (
    Sample,
    is_mvtec_layout,
    read_mask,
    test_samples,
    train_good_images,
)
from core.evaluation.metrics import (
    aupro,
    average_precision,
    best_f1_threshold,
    f1_at,
    pixel_auroc_ap,
    roc_auc,
    roc_curve,
    summarize,
    threshold_for_false_reject,
)

__all__ = [
    "Sample",
    "aupro",
    "average_precision",
    "best_f1_threshold",
    "f1_at",
    "is_mvtec_layout",
    "pixel_auroc_ap",
    "read_mask",
    "roc_auc",
    "roc_curve",
    "summarize",
    "test_samples",
    "threshold_for_false_reject",
    "train_good_images",
]
