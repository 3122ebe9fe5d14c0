"""Bench peer for kind "genicam": the reject gate's side of the camera's digital outputs,
watching a simulated line's outputs (SimLineSource.output_watchers).

What it measures: the time.monotonic() at which the transport's scheduler thread drove a
result's line high through the source's set_digital_output, in process. That is trigger ->
"the camera was told" (the station's queue, the link's runner, the scheduler thread, the
node writes of a simulated camera); a real camera adds its GenICam write latency (a few
node writes over GigE / USB3) and the output's electrical delay, which only a scope on the
line shows.

A digital line carries no sequence number: each result gives one rising edge (every
decision pulses: OK on ok_line, NG / REVIEW / ERROR on ng_line), and the n-th edge is taken
as the n-th result. So the bench must wait for its results in the order it triggered them,
one per part, with delay_ms 0 and parts further apart than the pulse (2 ms).

Which camera: ``Peer(source=...)`` watches that SimLineSource only (give the station
``TransportContext(camera=peer.camera)``); without one it watches every SimLineSource in the
process (SimLineSource.every_output_watchers), which is how bench/lineio_latency.py's
in-process station, with its own simulated line, is seen.
"""

from __future__ import annotations

import collections
import threading
import time

from core.camera.sim.line import SimLineSource


class Peer:
    def __init__(self, source: SimLineSource | None = None, ok_line: str = "Line2", ng_line: str = "Line1",
                 pulse_ms: int = 2, **_ignored) -> None:
        self.source = source
        self._watchers = source.output_watchers if source is not None else SimLineSource.every_output_watchers
        self.ok_line, self.ng_line, self.pulse_ms = ok_line, ng_line, int(pulse_ms)
        self._cond = threading.Condition()
        self._edges: collections.deque[float] = collections.deque()  # rising edges not yet matched
        self._seen: dict[int, float] = {}  # seq -> the edge matched to it

    def camera(self) -> SimLineSource | None:
        """For TransportContext.camera (None when watching every simulated line)."""
        return self.source

    def transport_options(self) -> dict:
        return {"kind": "genicam", "ok_line": self.ok_line, "ng_line": self.ng_line,
                "review_line": self.ng_line, "error_line": self.ng_line, "ready_line": "",
                "pulse_ms": self.pulse_ms, "delay_ms": 0}

    def start(self) -> None:
        self._watchers.append(self._saw)

    def wait_result(self, seq: int, timeout: float) -> float | None:
        """The next rising edge not yet matched to a result (asking again for a seq gives the
        same time); None when no edge came within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if seq in self._seen:
                return self._seen[seq]
            while not self._edges:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            self._seen[int(seq)] = t = self._edges.popleft()
            return t

    def stop(self) -> None:
        try:
            self._watchers.remove(self._saw)
        except ValueError:  # not started
            pass

    def _saw(self, line: str, value: bool) -> None:
        if value and line in (self.ok_line, self.ng_line):
            with self._cond:
                self._edges.append(time.monotonic())
                self._cond.notify_all()
