"""In-process stand-ins for the hub's tests (the hub is not a protocol: its links may be
fakes here; each transport's own tests use its real peer): a recording transport that can
stall or raise on demand, and InspectionResults without a model."""

from __future__ import annotations

import threading
import time

import numpy as np

from core.camera.frame import Frame
from core.inspection.result import InspectionResult
from core.lineio.contract import LineCommand, LineInput, LineResult, StationState
from core.recipe import Thresholds, Verdict
from tests.lineio_gui_fakes import LoopTransport

THRESHOLDS = Thresholds(0.3, 0.6, 0.5)


def result(frame_id: int, verdict: str = "OK", *, t_trigger: float | None = None,
           timestamp: float = 0.0, score: float = 0.1) -> InspectionResult:
    frame = Frame(np.zeros((4, 4), np.uint8), frame_id, "test", timestamp=timestamp, wall_time=1000.0)
    if t_trigger is not None:
        frame.metadata["t_trigger"] = t_trigger
    return InspectionResult(frame=frame, image=frame.image, score=score,
                            anomaly_map=np.zeros((4, 4), np.float32), verdict=Verdict(verdict),
                            thresholds=THRESHOLDS, latency_ms=1.0, model_version=3, recipe="part",
                            t_done=timestamp)


class RecordingTransport(LoopTransport):
    """Records what it is sent (see LoopTransport). ``gate`` (cleared) stalls
    publish_result; ``fail`` makes publishing raise."""

    def __init__(self, name: str = "rec", state: str = "connected") -> None:
        super().__init__(name, state)
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()  # publish_result was called
        self.fail = False
        self.threads: set[str] = set()

    @property
    def link_state(self) -> str:
        return self.state

    @link_state.setter
    def link_state(self, value: str) -> None:
        self.state = value

    def publish_result(self, result: LineResult) -> None:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        if not self.gate.wait(10.0) or self.stopped:
            raise TimeoutError("stalled peer")
        if self.fail:
            raise ConnectionError("peer gone")
        super().publish_result(result)

    def publish_state(self, state: StationState) -> None:
        if self.fail:
            raise ConnectionError("peer gone")
        super().publish_state(state)

    def stop(self) -> None:
        super().stop()
        self.gate.set()

    def command(self, kind: LineInput, value=None) -> None:
        self.commands(LineCommand(kind, value, source=self.name))


def wait_for(predicate, timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (a failure guard, not a timing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return bool(predicate())


class FakeClock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t
