"""Sends inspection results to the results store from its own thread.

Archiving an NG / REVIEW frame means encoding and syncing two PNG files; doing that in the
inspection worker would stall the model, so results are queued here (bounded) and written
by one thread. If the queue stays full for ``put_timeout`` seconds the result is counted in
``lost`` and reported through ``last_error``: never dropped without a trace. While the store
cannot write (disk full, database locked) it holds the rows and :attr:`ResultRecorder.alarm`
says so in one line (for the status bar); it is "" when results are being recorded.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np

from core.inspection.result import InspectionResult
from core.store.records import ResultRecord

_log = logging.getLogger(__name__)


class ResultsSink(Protocol):
    """What the recorder needs from :class:`core.store.results.ResultsStore`."""

    def record(self, record: ResultRecord, image: np.ndarray | None = None,
               heatmap: np.ndarray | None = None) -> ResultRecord: ...


Labels = Callable[[], tuple[str | None, str | None]]  # (shift, lot) now


def to_record(result: InspectionResult, shift: str | None = None,
              lot: str | None = None) -> ResultRecord:
    """The results-store row of an inspection result."""
    t = result.thresholds
    return ResultRecord(
        time=result.frame.wall_time, recipe=result.recipe, model_version=result.model_version,
        ok_limit=t.ok_limit, ng_limit=t.ng_limit, pixel_threshold=t.pixel, score=result.score,
        verdict=str(result.verdict), latency_ms=result.latency_ms, frame_id=result.frame.frame_id,
        source=result.frame.source_id, shift=shift, lot=lot)


class ResultRecorder:
    """A worker consumer (call it with each result) that records them in a results store."""

    def __init__(self, store: ResultsSink, capacity: int = 256, put_timeout: float = 2.0,
                 labels: Labels | None = None) -> None:
        """``labels()``: the shift and lot to record with each result, taken when the result
        comes (in the worker's thread, by the counters' clock, so a part is recorded in the
        shift it was counted in; a lot changed later is not applied to it)."""
        self.store = store
        self._labels = labels
        self.put_timeout = put_timeout
        self._queue: queue.Queue[tuple | None] = queue.Queue(maxsize=capacity)
        self._lock = threading.Lock()
        self.recorded = 0
        self.lost = 0  # results that could not be queued or written
        self.last_error = ""
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="results-recorder", daemon=True)
        self._thread.start()

    def __call__(self, result: InspectionResult) -> None:
        if self._closed:
            self._fail(f"recorder closed, result of frame {result.frame.frame_id} not recorded")
            return
        shift = lot = None
        if self._labels is not None:
            try:
                shift, lot = self._labels()
            except Exception as exc:  # recorded without them rather than not at all
                _log.error("shift / lot of frame %s unknown: %s", result.frame.frame_id, exc)
        try:
            self._queue.put((result, shift, lot), timeout=self.put_timeout)
        except queue.Full:
            self._fail(f"results store too slow: result of frame {result.frame.frame_id} not recorded")

    def close(self, timeout: float = 30.0) -> bool:
        """Write what is queued, then stop the thread; True when it has ended."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def pending(self) -> int:
        return self._queue.qsize()

    @property
    def alarm(self) -> str:
        """The store's alarm (results not being recorded, images not archived) or ""."""
        alarm = getattr(self.store, "alarm", "")
        return alarm if isinstance(alarm, str) else ""

    def _fail(self, message: str) -> None:
        _log.error("%s", message)
        with self._lock:
            self.lost += 1
            self.last_error = message

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            result, shift, lot = item
            try:
                self.store.record(to_record(result, shift, lot), result.image, result.anomaly_map)
            except Exception as exc:
                self._fail(f"recording frame {result.frame.frame_id} failed: {type(exc).__name__}: {exc}")
                continue
            with self._lock:
                self.recorded += 1
