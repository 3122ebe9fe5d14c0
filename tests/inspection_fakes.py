"""Shared fakes for the inspection and GUI tests (no model, no camera)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from core.camera.delivery import DeliveryMode, FrameDelivery
from core.camera.frame import Frame
from core.camera.stats import GrabberStats, StatsCounter


@dataclass
class FakePrediction:
    score: float
    anomaly_map: np.ndarray


class FakeInferencer:
    """Anomaly map = first channel / 255; score = its maximum. Optional gate to hold frames."""

    backend_name = "fake"

    def __init__(self, thresholds: dict | None = None) -> None:
        self.meta = {"thresholds": thresholds or {"ok_limit": 0.3, "ng_limit": 0.6, "pixel": 0.5},
                     "image_size": [32, 32], "preset": "fake"}
        self.calls: list[tuple[int, ...]] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.fail_on: set[int] = set()

    def predict(self, image: np.ndarray) -> FakePrediction:
        self.calls.append(image.shape)
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5.0)
        ch0 = image if image.ndim == 2 else image[:, :, 0]
        if int(ch0.flat[0]) in self.fail_on:
            raise RuntimeError("model exploded")
        amap = ch0.astype(np.float32) / 255.0
        return FakePrediction(float(amap.max()), amap)


class Sink:
    """A results store that keeps the records in memory."""

    def __init__(self):
        self.records = []

    def record(self, record, image=None, heatmap=None):
        self.records.append(record)
        return record

    def close(self, timeout=None):
        pass

    @property
    def committed_count(self):
        return len(self.records)


class ManualFeed:
    """A worker's frame feed filled by the test: the camera's :class:`FrameDelivery`, handed
    frames as the grabber thread hands them (live: newest only; triggered: all, in order)."""

    def __init__(self, mode: DeliveryMode | str = DeliveryMode.LIVE, queue_size: int = 64) -> None:
        self.counts = StatsCounter()
        self.overrun: list[Frame] = []
        self.delivery = FrameDelivery(DeliveryMode(mode), queue_size, self.counts, self.overrun.append)

    def put(self, frame: Frame) -> None:
        self.delivery.put(frame)

    def next_frame(self, timeout: float | None = None) -> Frame | None:
        return self.delivery.take(timeout, alive=lambda: True)

    def stats(self) -> GrabberStats:
        return self.counts.snapshot("fake:0", "streaming", self.delivery.queued())


def make_frame(level: int, frame_id: int = 0, shape: tuple[int, int] = (24, 32),
               defect: tuple[int, int, int, int] | None = None, base: int = 10) -> Frame:
    """BGR frame of value ``base``; the ``defect`` box (x, y, w, h) has value ``level``.
    Without a box the whole frame has value ``level``."""
    img = np.full((*shape, 3), base if defect else level, np.uint8)
    if defect:
        x, y, w, h = defect
        img[y:y + h, x:x + w] = level
    return Frame(image=img, frame_id=frame_id, source_id="fake:0")


def make_tiny_bundle(path, thresholds: dict | None = None, image_size=(64, 64), lively: bool = False,
                     seed: int = 0):
    """A randomly initialised, very small DRAEM bundle (fast on CPU; detects nothing).
    ``lively``: weights drawn so that maps and scores vary across [0, 1] from image to image
    (the default initialisation gives maps of about 0.5 everywhere)."""
    import torch

    from core.inference.bundle import save_bundle
    from core.model.draem import DraemModel

    if lively:
        model = lively_model(8, 4, seed)
    else:
        torch.manual_seed(seed)
        model = DraemModel(recon_width=8, disc_width=4)
    meta = {"preset": "tiny-test", "recon_width": 8, "disc_width": 4, "image_size": list(image_size),
            "thresholds": thresholds or {"ok_limit": 0.3, "ng_limit": 0.6, "pixel": 0.5}}
    return save_bundle(path, model.state_dict(), meta)


def lively_model(recon: int, disc: int, seed: int = 0):
    """Random DRAEM whose maps vary across [0, 1] (the official init gives maps of ~0.5)."""
    import torch
    from torch import nn

    from core.model.draem import DraemModel

    torch.manual_seed(seed)
    model = DraemModel(recon, disc)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.uniform_(m.bias, -0.1, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.7, 1.3)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.eval()
