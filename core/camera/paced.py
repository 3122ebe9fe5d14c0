"""Common base of the software sources (simulated line, replay): frame pacing,
trigger mode with a software trigger, and fault injection."""

from __future__ import annotations

import collections
import threading
import time
from abc import abstractmethod
from typing import Any

import numpy as np

from core.camera.base import Capabilities, CameraSource, Feature, FeatureInfo, Support, feature_name
from core.camera.errors import CameraError, FeatureError, SourceLostError
from core.camera.faults import FaultInjector
from core.camera.frame import Frame

MAX_FPS = 1000.0


def parse_fps(value: Any) -> float:
    """Frame rate from user input; 0 means 'as fast as the consumer reads'."""
    try:
        fps = float(value)
    except (TypeError, ValueError):
        raise FeatureError(f"frame rate must be a number, got {value!r}") from None
    if not 0.0 <= fps <= MAX_FPS:
        raise FeatureError(f"frame rate {fps} is out of range [0, {MAX_FPS}] (0 = unpaced)")
    return fps


class PacedSource(CameraSource):
    """Produces frames on demand at ``fps`` (0: unpaced) or one per software trigger."""

    def __init__(self, fps: float) -> None:
        super().__init__()
        self._fps = parse_fps(fps)
        self._trigger_mode = "Off"
        self._cond = threading.Condition()
        self._pending_triggers = 0
        self._trigger_times: collections.deque[float] = collections.deque()  # of pending triggers
        self._turn_trigger: float | None = None  # the trigger the frame being made answers
        self._next_due = 0.0
        self._counter = 0
        self.faults = FaultInjector()

    def inject_fault(self, kind: str, seconds: float = 2.0, count: int = 1) -> None:
        """Simulate a fault: ``disconnect``, ``stall`` (seconds) or ``incomplete`` (count)."""
        self.faults.inject(kind, seconds=seconds, count=count)

    # -- life cycle -------------------------------------------------------------------
    def open(self) -> None:
        left = self.faults.disconnected_for()
        if left > 0 and not self.is_open:
            raise CameraError(f"{self.source_id}: device not reachable (simulated disconnect, {left:.1f} s left)")
        super().open()

    def _start(self) -> None:
        with self._cond:
            self._pending_triggers = 0
            self._trigger_times.clear()
        self._next_due = time.monotonic()

    def _stop(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _read(self, timeout: float) -> Frame | None:
        deadline = time.monotonic() + timeout
        if self.faults.disconnected_for() > 0:
            raise SourceLostError(f"{self.source_id}: device lost (simulated disconnect)")
        stall = self.faults.stalled_for()
        if stall > 0:
            time.sleep(min(stall, timeout))
            if self.faults.stalled_for() > 0:
                return None
        if not self._wait_turn(deadline):
            return None
        index = self._counter
        produced = self._produce(index)
        if produced is None:  # a non-looping replay has run out
            return None
        self._counter += 1
        image, metadata = produced
        complete = True
        if self.faults.take_incomplete():
            image = image.copy()
            image[image.shape[0] // 2:] = 0  # the lower half never arrived
            complete = False
        if self._turn_trigger is not None:  # when the part was triggered (the line's deadline)
            metadata = {**metadata, "t_trigger": self._turn_trigger}
        return Frame(image=image, frame_id=index, source_id=self.source_id,
                     complete=complete, metadata=metadata)

    def _wait_turn(self, deadline: float) -> bool:
        """Wait for a trigger (trigger mode) or the next due time; False on timeout."""
        self._turn_trigger = None
        if self._trigger_mode == "On":
            with self._cond:
                while self._pending_triggers == 0:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self.is_streaming:
                        return False
                    self._cond.wait(left)
                self._pending_triggers -= 1
                self._turn_trigger = self._trigger_times.popleft() if self._trigger_times else None
            return True
        if self._fps > 0:
            now = time.monotonic()
            due = self._next_due
            if due > deadline:
                time.sleep(max(0.0, deadline - now))
                return False
            if due > now:
                time.sleep(due - now)
            self._next_due = max(due + 1.0 / self._fps, time.monotonic() - 1.0 / self._fps)
        return True

    @abstractmethod
    def _produce(self, index: int) -> tuple[np.ndarray, dict[str, Any]] | None:
        """Image and metadata of frame number ``index``; None when exhausted."""

    # -- triggers and features --------------------------------------------------------
    def software_trigger(self) -> None:
        if self._trigger_mode != "On":
            raise FeatureError(f"{self.source_id}: set trigger_mode to 'On' before software triggers")
        with self._cond:
            self._pending_triggers += 1
            self._trigger_times.append(time.monotonic())
            self._cond.notify_all()

    def capabilities(self) -> Capabilities:
        caps = Capabilities()
        f = caps.features
        f[Feature.FRAME_RATE] = FeatureInfo(Support.READ_WRITE, self._fps, 0.0, MAX_FPS, None, unit="Hz")
        f[Feature.TRIGGER_MODE] = FeatureInfo(Support.READ_WRITE, self._trigger_mode, choices=("Off", "On"))
        f[Feature.TRIGGER_SOURCE] = FeatureInfo(Support.READ_ONLY, "Software", choices=("Software",))
        f[Feature.SOFTWARE_TRIGGER] = FeatureInfo(Support.READ_WRITE)
        return caps

    def set_feature(self, name: Feature | str, value: Any) -> None:
        feature = feature_name(name)
        if feature is Feature.FRAME_RATE:
            self._fps = parse_fps(value)
            self._next_due = time.monotonic()
        elif feature is Feature.TRIGGER_MODE:
            if str(value) not in ("Off", "On"):
                raise FeatureError(f"{self.source_id}: trigger_mode must be 'Off' or 'On', got {value!r}")
            self._trigger_mode = str(value)
        elif feature is Feature.SOFTWARE_TRIGGER:
            self.software_trigger()
        else:
            super().set_feature(feature, value)

    @property
    def free_running(self) -> bool:
        return self._trigger_mode != "On"
