"""The Train page's measuring probe: a few real training steps of a preset, timed in a
separate process (``python -m core.training.estimate``), with the threads the run will get.

A probe has ``start(preset, threads, device, done[, model])`` (``model="dsr"``: DSR's preset),
``cancel()`` and ``busy``;
``done(seconds_per_step, error)`` is called once on the GUI thread, never after ``cancel()``.
Tests pass a fake with chosen step timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject

from app.workers.background import Background

PROBE_STEPS = 3   # timed steps after one warm-up step (the median is kept)

Done = Callable[[float | None, str], None]


class ProcessProbe(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.proc: subprocess.Popen | None = None
        self._waiter = Background("step-probe", self)  # waits for the process off the GUI thread

    @property
    def busy(self) -> bool:
        return self.proc is not None

    def start(self, preset: str, threads: int | None, device: str, done: Done,
              model: str = "draem") -> None:
        self.cancel()
        args = [sys.executable, "-m", "core.training.estimate", "--preset", preset,
                "--steps", str(PROBE_STEPS), "--device", device]
        if model != "draem":
            args += ["--model", model]
        if threads:
            args += ["--threads", str(threads)]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.proc = proc
        self._waiter.submit(lambda: proc.communicate()[0],
                            done=lambda out, error: self._finished(proc, out, error, done))

    def _finished(self, proc: subprocess.Popen, out: bytes | None, error: str | None, done: Done) -> None:
        if proc is not self.proc:
            return  # cancelled: its result is stale
        self.proc = None
        out = (out or b"").decode(errors="replace").strip() if error is None else ""
        try:
            result = json.loads(out.splitlines()[-1])
            sps = float(result["seconds_per_step"])
        except (ValueError, KeyError, IndexError, TypeError):
            err = ""
            try:
                err = str(json.loads(out.splitlines()[-1]).get("error", ""))
            except (ValueError, IndexError, AttributeError):
                pass
            done(None, err or out[-200:] or error or "no output")
            return
        if not sps > 0 or sps == float("inf"):
            done(None, f"measured {sps} s per step")
            return
        done(sps, "")

    def cancel(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            try:
                proc.wait(2)
            except subprocess.TimeoutExpired:
                pass
