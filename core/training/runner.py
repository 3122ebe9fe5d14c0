"""Parent side of a training run (no Qt): start the job process, read its events, cancel,
resume, and notice a crash.

``on_event(dict)`` is called from a reader thread for every event of the job (see
:mod:`core.training.job`), plus, when the process ends without saying why, a synthesised
``{"event": "crashed", "returncode": N, "message": "..."}`` carrying the tail of its log.
Every event is also appended to ``RUN_DIR/events.jsonl`` so a window opened later can show
the run's history.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

from core.training.files import CANCEL_FILE, CHECKPOINT_FILE, EVENTS_FILE, LOG_FILE, SPEC_FILE
from core.training.job import JobSpec

FINAL_EVENTS = ("done", "cancelled", "error", "crashed")


def can_resume(run_dir: str | Path) -> bool:
    """True when ``run_dir`` holds a spec and a checkpoint to continue from."""
    d = Path(run_dir)
    return (d / SPEC_FILE).is_file() and (d / CHECKPOINT_FILE).is_file()


def _log_tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


class TrainingRunner:
    """One training run in a child process; ``start()`` again (or ``resume()``) continues it."""

    def __init__(self, spec: JobSpec, on_event: Callable[[dict], None] | None = None,
                 python: str = sys.executable) -> None:
        self.spec = spec
        self.on_event = on_event
        self.python = python
        self.proc: subprocess.Popen | None = None
        self.final: dict | None = None
        self._reader: threading.Thread | None = None
        self._done = threading.Event()

    @property
    def run_dir(self) -> Path:
        return self.spec.folder

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Write the spec and start the job; refused while one is running."""
        if self.running:
            raise RuntimeError("a training run is already in progress")
        spec_path = self.spec.save()
        (self.run_dir / CANCEL_FILE).unlink(missing_ok=True)
        self.final = None
        self._done.clear()
        log = open(self.run_dir / LOG_FILE, "ab")
        try:
            self.proc = subprocess.Popen(
                [self.python, "-m", "core.training.job", str(spec_path)],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                cwd=str(Path(__file__).resolve().parents[2]), text=True, bufsize=1)
        finally:
            log.close()
        self._reader = threading.Thread(target=self._read, name="training-events", daemon=True)
        self._reader.start()

    def resume(self) -> None:
        """Start again with ``resume=True``: the job continues from the checkpoint."""
        self.spec.resume = True
        self.start()

    def cancel(self, kill_after: float | None = 10.0) -> None:
        """Ask the job to stop (checkpoint kept); SIGTERM if it has not ended after ``kill_after`` s."""
        if not self.running:
            return
        (self.run_dir / CANCEL_FILE).touch()
        if kill_after is not None:
            threading.Thread(target=self._terminate_later, args=(kill_after,), daemon=True).start()

    def _terminate_later(self, delay: float) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            proc.terminate()

    def wait(self, timeout: float | None = None) -> dict | None:
        """Block until the final event (or ``timeout``); returns it (None on timeout)."""
        self._done.wait(timeout)
        return self.final

    def _emit(self, event: dict) -> None:
        try:
            with open(self.run_dir / EVENTS_FILE, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(event, default=str) + "\n")
        except OSError:
            pass  # a full disk must not stop the events reaching the window
        if event.get("event") in FINAL_EVENTS and self.final is None:
            self.final = event
        if self.on_event is not None:
            self.on_event(event)

    def _read(self) -> None:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        for line in proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # not ours (the job sends everything else to its log)
            if isinstance(event, dict) and "event" in event:
                self._emit(event)
        rc = proc.wait()
        if self.final is None:
            tail = _log_tail(self.run_dir / LOG_FILE)
            self._emit({"event": "crashed", "returncode": rc,
                        "message": f"the training process ended unexpectedly (exit code {rc})"
                                   + (f":\n{tail}" if tail else ""),
                        "can_resume": can_resume(self.run_dir)})
        self._done.set()
