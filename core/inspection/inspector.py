"""Run a model on a frame (recipe preprocessing, ROI crop) and apply the thresholds."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import TYPE_CHECKING

import numpy as np

from core.camera.frame import Frame
from core.inspection.result import InspectionResult
from core.recipe import (Preprocessing, Recipe, Roi, Thresholds, apply_preprocessing,
                         check_limits)

if TYPE_CHECKING:  # the model is passed in: importing the interface would load torch here
    from core.inference.inferencer import Inferencer, Prediction


class Inspector:
    """Inspects frames one at a time; thresholds can be changed from any thread."""

    def __init__(self, inferencer: Inferencer, thresholds: Thresholds, *, recipe: str = "",
                 model_version: int | None = None, roi: Roi | None = None,
                 preprocessing: Preprocessing | None = None) -> None:
        self.inferencer = inferencer
        self.recipe = recipe
        self.model_version = model_version
        self.roi = roi
        self.preprocessing = preprocessing
        self._lock = threading.Lock()
        self._thresholds = _checked(thresholds)
        # a model that cannot run two calls at once is called by one thread at a time
        self._model_lock = None if getattr(inferencer, "concurrent", False) else threading.Lock()

    @classmethod
    def from_recipe(cls, inferencer: Inferencer, recipe: Recipe) -> Inspector:
        """Use the recipe's thresholds, falling back to the model bundle's calibrated ones."""
        t = recipe.thresholds
        if t is None:
            meta_t = (getattr(inferencer, "meta", None) or {}).get("thresholds")
            if not meta_t:
                raise ValueError(f"recipe '{recipe.name}' has no thresholds and the model bundle "
                                 f"carries none either; calibrate or set thresholds first")
            try:
                t = Thresholds.from_mapping(meta_t)
            except ValueError as exc:
                raise ValueError(f"model bundle thresholds are malformed ({exc!r})") from None
        return cls(inferencer, t, recipe=recipe.name, model_version=recipe.active_version,
                   roi=recipe.roi, preprocessing=recipe.preprocessing)

    @property
    def thresholds(self) -> Thresholds:
        with self._lock:
            return self._thresholds

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Thresholds for the next frames (a frame being inspected keeps the old ones)."""
        t = _checked(thresholds)
        with self._lock:
            self._thresholds = t

    def inspect(self, frame: Frame, seq: int = 0) -> InspectionResult:
        """Preprocess, crop to the ROI, run the model, place the map back and judge the score."""
        t_start = time.monotonic()
        thresholds = self.thresholds
        image = frame.image
        if self.preprocessing is not None:
            image = apply_preprocessing(image, self.preprocessing, None)
        if self.roi is None:
            pred = self._predict(image)
            amap = _as_map(pred.anomaly_map, image.shape[:2])
        else:
            r = self.roi
            _check_roi(r, image.shape)
            pred = self._predict(image[r.y:r.y + r.h, r.x:r.x + r.w])
            amap = np.zeros(image.shape[:2], np.float32)
            amap[r.y:r.y + r.h, r.x:r.x + r.w] = _as_map(pred.anomaly_map, (r.h, r.w))
        score = float(pred.score)
        t_done = time.monotonic()
        return InspectionResult(
            frame=frame, image=image, score=score, anomaly_map=amap,
            verdict=thresholds.verdict(score),
            thresholds=thresholds, latency_ms=(t_done - t_start) * 1000.0,
            model_version=self.model_version, recipe=self.recipe, roi=self.roi,
            t_start=t_start, t_done=t_done, seq=seq)

    def _predict(self, image: np.ndarray) -> Prediction:
        if self._model_lock is None:
            return self.inferencer.predict(image)
        with self._model_lock:
            return self.inferencer.predict(image)


def _checked(t: Thresholds) -> Thresholds:
    check_limits(t.ok_limit, t.ng_limit)
    if not np.isfinite(t.pixel):
        raise ValueError(f"thresholds.pixel must be a finite number, got {t.pixel!r}")
    return dataclasses.replace(t)  # a private copy: later edits of the caller's object do nothing


def _check_roi(roi: Roi, shape: tuple[int, ...]) -> None:
    h, w = shape[:2]
    if roi.x < 0 or roi.y < 0 or roi.w < 1 or roi.h < 1 or roi.x + roi.w > w or roi.y + roi.h > h:
        raise ValueError(f"ROI x={roi.x} y={roi.y} w={roi.w} h={roi.h} does not fit in the "
                         f"{w}x{h} frame (after preprocessing)")


def _as_map(amap: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    amap = np.asarray(amap, dtype=np.float32)
    if amap.shape != tuple(shape):
        raise ValueError(f"inferencer returned an anomaly map of shape {amap.shape}, expected {tuple(shape)} "
                         f"(the input's resolution)")
    return amap
