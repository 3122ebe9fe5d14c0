"""The outcome of inspecting one frame."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from core.camera.frame import Frame
from core.recipe import Roi, Thresholds, Verdict, verdict_for


@dataclass(frozen=True)
class InspectionResult:
    """One inspected frame.

    ``image`` is the frame after the recipe's preprocessing (what is displayed); the
    ``anomaly_map`` (float32 HxW in [0, 1]) is aligned with it and 0 outside the ROI.
    Times are ``time.monotonic()`` seconds, the clock of ``Frame.timestamp``.
    """

    frame: Frame
    image: np.ndarray
    score: float
    anomaly_map: np.ndarray
    verdict: Verdict
    thresholds: Thresholds
    latency_ms: float  # preprocessing + model time for this frame
    model_version: int | None
    recipe: str = ""
    roi: Roi | None = None
    t_start: float = 0.0  # inspection began
    t_done: float = 0.0  # result ready
    seq: int = 0  # position in the worker's output (1, 2, ...); 0 when inspected directly

    @property
    def t_frame(self) -> float:
        """When the frame was received (``Frame.timestamp``)."""
        return self.frame.timestamp

    @property
    def wait_ms(self) -> float:
        """Time the frame waited for the model."""
        return (self.t_start - self.frame.timestamp) * 1000.0

    @property
    def age_ms(self) -> float:
        """Frame receipt to result ready."""
        return (self.t_done - self.frame.timestamp) * 1000.0

    def defect_pixels(self, pixel: float | None = None) -> int:
        """Number of anomaly-map pixels at or above the pixel threshold."""
        limit = self.thresholds.pixel if pixel is None else pixel
        return int(np.count_nonzero(self.anomaly_map >= limit))

    def rejudged(self, thresholds: Thresholds) -> InspectionResult:
        """The same result under other thresholds (no re-inference): for what-if display."""
        return dataclasses.replace(
            self, thresholds=thresholds,
            verdict=verdict_for(self.score, thresholds.ok_limit, thresholds.ng_limit))
