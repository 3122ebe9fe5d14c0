"""The interface every inference backend offers (the same as :class:`Inferencer`).

A backend turns a batch of preprocessed images (float32 N x H x W x 3 BGR in [0, 1], the
output of :func:`core.io.images.to_model_input`) into anomaly maps (N x H x W) and image
scores (N,). Everything else (preprocessing, resizing maps back to the frame, timing,
warm-up) is shared here, so every backend behaves identically apart from its arithmetic.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from core.inference.inferencer import Prediction, batched_predictions, tiled_predictions
from core.inference.tiling import InputSpec
from core.inference.scoring import smoothing_kernel
from core.io.images import to_model_input

__all__ = ["InferenceBackend", "BackendError", "Prediction"]


class BackendError(RuntimeError):
    """A backend cannot be used here (missing package, unsupported device or format)."""


class InferenceBackend(ABC):
    """Common front end: preprocess, batch, run :meth:`_infer`, resize maps to the frame."""

    backend_name: str = "abstract"
    # True when predict() may be called from several threads at once (one frame each); the
    # live worker then keeps several frames in flight. Backends that share one request or
    # one thread pool between calls leave it False.
    concurrent: bool = False

    def __init__(self, meta: dict, device: str = "cpu") -> None:
        if "image_size" not in meta:
            raise ValueError("model metadata lacks 'image_size'")
        self.meta = meta
        self.device = device
        self.image_size: tuple[int, int] = tuple(int(v) for v in meta["image_size"])  # type: ignore[assignment]
        self.kernel = smoothing_kernel(self.image_size)
        self.input = InputSpec.from_meta(meta)
        self.selection: dict = {}  # filled by select.load_inferencer: how this backend was chosen

    @property
    def thresholds(self) -> dict:
        return dict(self.meta.get("thresholds") or {})

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """uint8/uint16/float frame -> float32 HxWx3 at the model's size (OpenCV, one pass)."""
        return to_model_input(image, self.image_size)

    @abstractmethod
    def _infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 (N, H, W, 3) -> (anomaly maps float32 (N, H, W), scores float32 (N,))."""

    def infer_preprocessed(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the model on an already preprocessed NHWC float32 batch (checked)."""
        h, w = self.image_size
        if batch.dtype != np.float32 or batch.ndim != 4 or batch.shape[1:] != (h, w, 3):
            raise ValueError(f"{self.backend_name}: expected float32 (N, {h}, {w}, 3), "
                             f"got {batch.dtype} {batch.shape}")
        return self._infer(np.ascontiguousarray(batch))

    def predict_batch(self, images: list[np.ndarray], batch_size: int = 8) -> list[Prediction]:
        if self.input.mode == "tiles":
            return tiled_predictions(images, batch_size, self.input, self.image_size, self.kernel,
                                     self._infer)
        return batched_predictions(images, batch_size, self.preprocess, self._infer)

    def predict(self, image: np.ndarray) -> Prediction:
        return self.predict_batch([image], batch_size=1)[0]

    def warmup(self, runs: int = 2) -> None:
        """Run a dummy frame so that lazy allocations and kernel choices happen now."""
        dummy = np.zeros((*self.image_size, 3), np.float32)[None]
        for _ in range(max(0, runs)):
            self._infer(dummy)

    def describe(self) -> str:
        """One line for logs and the GUI, e.g. 'onnxruntime (CPUExecutionProvider, 2 threads)'."""
        return f"{self.backend_name} ({self.device})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()} image_size={self.image_size}>"
