"""What the hub shows of the line's signals: the last value of each output (as results,
station state and forced values set them), the newest inputs, and its counts."""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field

from core.lineio.contract import LineCommand, LineOutput, LineResult, StationState

MAX_INPUTS = 50


@dataclass(frozen=True)
class SignalSnapshot:
    outputs: dict[str, object] = field(default_factory=dict)  # str(LineOutput) -> last value
    inputs: list[LineCommand] = field(default_factory=list)  # newest last, at most MAX_INPUTS


@dataclass(frozen=True)
class LineStats:
    sent: int = 0  # parts handed to the links (tests not included)
    late: int = 0  # results past the deadline (when decided, or while waiting in a link's queue)
    fail_safe: int = 0  # fail-safe decisions sent in place of a late result
    dropped: int = 0  # results a link's full queue could not take
    test: int = 0  # commissioning results (send_test)


class SignalBoard:
    """Thread-safe record of the outputs' last values and the last inputs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outputs: dict[str, object] = {}
        self._inputs: collections.deque[LineCommand] = collections.deque(maxlen=MAX_INPUTS)
        self._result_error = False  # the last result was ERROR (the output stays on until the next)

    def result(self, r: LineResult) -> None:
        with self._lock:
            o = self._outputs
            o[LineOutput.RESULT_VALID.value] = True
            for name in ("OK", "REVIEW", "NG"):
                o[name.lower()] = r.decision == name
            o[LineOutput.SEQ.value] = r.seq
            o[LineOutput.SCORE.value] = r.score
            self._result_error = r.decision == "ERROR"
            o[LineOutput.ERROR.value] = self._result_error

    def state(self, s: StationState) -> None:
        with self._lock:
            o = self._outputs
            o[LineOutput.READY.value] = s.ready
            o[LineOutput.BUSY.value] = s.busy
            o[LineOutput.HEARTBEAT.value] = s.heartbeat
            o[LineOutput.ERROR.value] = bool(s.error or s.alarm) or self._result_error

    def forced(self, output: LineOutput, value: object) -> None:
        with self._lock:
            self._outputs[output.value] = value

    def command(self, cmd: LineCommand) -> None:
        with self._lock:
            self._inputs.append(cmd)

    def snapshot(self) -> SignalSnapshot:
        with self._lock:
            return SignalSnapshot(dict(self._outputs), list(self._inputs))
