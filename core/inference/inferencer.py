"""PyTorch inference on model bundles: single image and batch APIs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch

from core.device import configure_cpu_threads, select_device
from core.inference.bundle import load_bundle
from core.inference.scoring import anomaly_map, image_scores, smoothing_kernel
from core.inference.tiling import InputSpec, TileGrid, mean_filter_max
from core.io.images import to_model_input


@dataclass
class Prediction:
    score: float
    anomaly_map: np.ndarray          # float32 HxW in [0, 1] at the input image's resolution
    latency_ms: float = 0.0


def batched_predictions(images: list[np.ndarray], batch_size: int,
                        preprocess: Callable[[np.ndarray], np.ndarray],
                        run: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> list[Prediction]:
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
                      tile: tuple[int, int], kernel: int,
                      run: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> list[Prediction]:
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


class Inferencer:
    backend_name = "pytorch"

    def __init__(self, model: torch.nn.Module, meta: dict, device: str = "auto",
                 threads: int | None = None):
        self.meta = meta
        self.device = select_device(device)
        if self.device.type == "cpu":
            configure_cpu_threads(threads)
        self.image_size = tuple(int(v) for v in meta["image_size"])
        self.kernel = smoothing_kernel(self.image_size)
        self.input = InputSpec.from_meta(meta)
        self.model = model.to(self.device).eval()
        self.half = self.device.type == "cuda"
        if self.half:
            self.model = self.model.half().to(memory_format=torch.channels_last)

    @classmethod
    def from_bundle(cls, path: str | Path, device: str = "auto", threads: int | None = None) -> "Inferencer":
        bundle = load_bundle(path)
        return cls(bundle.build_model(), bundle.meta, device, threads)

    @property
    def thresholds(self) -> dict:
        return dict(self.meta.get("thresholds") or {})

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        return to_model_input(image, self.image_size)

    @torch.inference_mode()
    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device)
        if self.half:
            x = x.half().contiguous(memory_format=torch.channels_last)
        _, logits = self.model(x)
        amap = anomaly_map(logits.float())
        scores = image_scores(amap, self.kernel)
        return amap.cpu().numpy(), scores.cpu().numpy()

    def predict_batch(self, images: list[np.ndarray], batch_size: int = 8) -> list[Prediction]:
        if self.input.mode == "tiles":
            return tiled_predictions(images, batch_size, self.input, self.image_size, self.kernel, self._run)
        return batched_predictions(images, batch_size, self.preprocess, self._run)

    def predict(self, image: np.ndarray) -> Prediction:
        return self.predict_batch([image], batch_size=1)[0]

    def warmup(self, runs: int = 2) -> None:
        dummy = np.zeros((*self.image_size, 3), np.uint8)
        for _ in range(runs):
            self.predict(dummy)
