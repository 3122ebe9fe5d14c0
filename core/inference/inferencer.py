"""The one inference interface: :class:`Inferencer`, which every backend implements.

An inferencer turns frames into :class:`Prediction` objects (image score and anomaly map
M_o at the frame's resolution). A backend only supplies :meth:`Inferencer._infer`: a batch
of preprocessed images (float32 N x H x W x 3 BGR in [0, 1], the output of
:func:`core.io.images.to_model_input`) to anomaly maps (N x H x W) and scores (N,).
Preprocessing, batching, tiles, resizing maps back, timing and warm-up are shared here, so
every backend behaves identically apart from its arithmetic. The backends live in
:mod:`core.inference.backends`; :func:`core.inference.load.load_model` picks one.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from core.inference.scoring import smoothing_kernel
from core.inference.tiling import InputSpec, TileGrid, mean_filter_max
from core.io.images import to_model_input


class BackendError(RuntimeError):
    """A backend cannot be used here (missing package, unsupported device or format)."""


@dataclass
class Prediction:
    score: float
    anomaly_map: np.ndarray          # float32 HxW in [0, 1] at the input image's resolution
    latency_ms: float = 0.0


Run = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class Inferencer(ABC):
    """A model ready to score frames; see the module docstring."""

    backend_name: str = "abstract"
    # True when predict() may be called from several threads at once (one frame each); the
    # live worker then keeps several frames in flight. Backends that share one request or
    # one thread pool between calls leave it False.
    concurrent: bool = False
    threads: int | None = None  # CPU threads per call (None: not on the CPU)

    def __init__(self, meta: dict, device: str = "cpu") -> None:
        if "image_size" not in meta:
            raise ValueError("model metadata lacks 'image_size'")
        self.meta = meta
        self.device = device
        self.image_size: tuple[int, int] = tuple(int(v) for v in meta["image_size"])  # type: ignore[assignment]
        self.kernel = smoothing_kernel(self.image_size)
        self.input = InputSpec.from_meta(meta)
        self.selection: dict = {}  # filled by core.inference.load: how this backend was chosen

    @property
    def thresholds(self) -> dict:
        return dict(self.meta.get("thresholds") or {})

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """uint8/uint16/float frame -> float32 HxWx3 at the model's size (OpenCV, one pass)."""
        return to_model_input(image, self.image_size)

    @abstractmethod
    def _infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 (N, H, W, 3) -> (anomaly maps float32 (N, H, W), scores float32 (N,))."""

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
        """One line for logs and tooltips, e.g. 'onnxruntime (CPUExecutionProvider, 2 intra-op
        threads)'; by default the status bar's :func:`core.inference.labels.backend_label`."""
        from core.inference.labels import backend_label

        return backend_label(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()} image_size={self.image_size}>"


def batched_predictions(images: list[np.ndarray], batch_size: int,
                        preprocess: Callable[[np.ndarray], np.ndarray], run: Run) -> list[Prediction]:
    """Preprocess and run ``images`` in chunks; maps come back at each image's own size."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    out: list[Prediction] = []
    for i in range(0, len(images), batch_size):
        chunk = images[i:i + batch_size]
        t0 = time.perf_counter()
        maps, scores = run(np.ascontiguousarray(np.stack([preprocess(im) for im in chunk])))
        per = (time.perf_counter() - t0) * 1000.0 / len(chunk)
        for im, m, s in zip(chunk, maps, scores):
            h, w = im.shape[:2]
            if (h, w) != m.shape:
                m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
            out.append(Prediction(float(s), m.astype(np.float32, copy=False), per))
    return out


def tiled_predictions(images: list[np.ndarray], batch_size: int, spec: InputSpec,
                      tile: tuple[int, int], kernel: int, run: Run) -> list[Prediction]:
    """Tiles mode (:mod:`core.inference.tiling`): each image scaled by ``spec.scale``, cut
    into ``tile`` pieces run ``batch_size`` at a time, the maps merged, the score taken on
    the merged map; maps come back at each image's own size."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    out: list[Prediction] = []
    for im in images:
        t0 = time.perf_counter()
        scaled = to_model_input(im, spec.scaled_size(im.shape))
        grid = TileGrid(scaled.shape[:2], tile, spec.overlap)
        tiles = grid.split(scaled)
        maps = [run(np.ascontiguousarray(tiles[i:i + batch_size]))[0] for i in range(0, len(tiles), batch_size)]
        amap = grid.merge(np.concatenate(maps).astype(np.float32, copy=False))
        score = mean_filter_max(amap, kernel)
        h, w = im.shape[:2]
        if (h, w) != amap.shape:
            amap = cv2.resize(amap, (w, h), interpolation=cv2.INTER_LINEAR)
        out.append(Prediction(score, amap, (time.perf_counter() - t0) * 1000.0))
    return out


def network_inputs(image: np.ndarray, meta: dict) -> np.ndarray:
    """What the network sees of ``image``: (1, H, W, 3) in resize mode, the tiles in tiles
    mode (int8 calibration uses it)."""
    size = tuple(int(v) for v in meta["image_size"])
    spec = InputSpec.from_meta(meta)
    if spec.mode == "resize":
        return to_model_input(image, size)[None]
    scaled = to_model_input(image, spec.scaled_size(image.shape))
    return TileGrid(scaled.shape[:2], size, spec.overlap).split(scaled)
