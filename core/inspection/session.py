"""A live inspection session: camera grabber thread + inspection worker + results recorder.

:meth:`LiveSession.open` loads the model, opens the camera and starts the threads; it blocks
(seconds), so GUIs call it off their GUI thread. :meth:`LiveSession.close` stops every thread
it started. The results store, score history and shift counters are passed in, so they
outlive a session (stop / start, recipe change).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from core.camera.base import CameraSource
from core.camera.delivery import DeliveryMode
from core.camera.grabber import Grabber
from core.inference.labels import backend_details, backend_label
from core.inspection.counters import ShiftCounters
from core.inspection.fault_text import FaultTracker
from core.inspection.history import ScoreHistory
from core.inspection.inspector import Inspector
from core.inspection.line_link import SessionLine
from core.inspection.recorder import ResultRecorder, ResultsSink
from core.inspection.result import InspectionResult
from core.inspection.worker import InspectionWorker
from core.settings_env import env_frames_in_flight, env_threads
from core.recipe import Recipe, Thresholds

if TYPE_CHECKING:  # loading torch is the model loader's business, not this module's import
    from core.inference.inferencer import Inferencer

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionStatus:
    """What the camera status line shows."""

    source: str = "-"
    state: str = "stopped"  # stopped / loading model / opening camera / streaming / reconnecting / failed
    camera_fps: float = 0.0  # frames received per second
    inspected_fps: float = 0.0
    received: int = 0
    dropped: int = 0  # frames the camera side lost: the grabber's overruns + incomplete frames
    skipped: int = 0  # the grabber's skipped (live mode: replaced before the model took them)
    latency_ms: float | None = None  # preprocessing + model time of the last frame
    fault: str = ""  # plain words; empty when all is well
    inspection_errors: int = 0
    unrecorded: int = 0  # results the results store could not take
    last_error: str = ""
    alarm: str = ""  # results not being recorded (disk full, database locked); empty when recording
    model_version: int | None = None  # the recipe's model version being inspected with
    backend: str = ""  # inference backend in a few words, e.g. "onnxruntime (CPU, 1 thread)"
    backend_details: str = ""  # how the backend was chosen (for a tooltip)


def settle_heap() -> None:
    """Move every object alive now (modules, the model, the GUI) out of the garbage collector's
    reach with :func:`gc.freeze`. With a few hundred thousand long-lived objects (torch, Qt,
    numpy), a full collection holds the GIL for about 150 ms, which the GUI and every worker
    feel as a stall, every few seconds under the live allocation rate; frozen objects are no
    longer traversed, so collections stay at a millisecond or so. Idempotent."""
    gc.freeze()


def live_frames_in_flight() -> int:
    """Frames inspected at once on the CPU: 2 where there are 2 cores or more (each with half
    the cores), else 1; LINEINSPECTOR_FRAMES_IN_FLIGHT overrides. Two frames on one core each
    beat one frame on two cores when the GUI and the camera also want CPU time (no thread
    waits at a layer's barrier for a core the GUI holds); more than two only add latency."""
    return env_frames_in_flight() or (2 if (os.cpu_count() or 1) >= 2 else 1)


def live_cpu_threads() -> int:
    """CPU threads per inspected frame: the cores shared among the frames in flight (on 2
    cores: 1); LINEINSPECTOR_THREADS overrides."""
    return env_threads() or max(1, (os.cpu_count() or 1) // live_frames_in_flight())


def worker_parallelism(inferencer: Inferencer) -> int:
    """Frames in flight for ``inferencer``: :func:`live_frames_in_flight` for a CPU model that
    can run calls concurrently, else 1."""
    device = str(getattr(inferencer, "device", "cpu")).split(":")[0]
    return live_frames_in_flight() if getattr(inferencer, "concurrent", False) and device == "cpu" else 1


def _default_inferencer(path: Path, device: str, bundle_sha: str | None = None) -> Inferencer:
    """The live way to load: :func:`core.inference.load.load_model` on "auto" with the int8
    policy on (``precision="auto"``), :func:`live_cpu_threads` threads per frame; ``bundle_sha``
    is the bundle's SHA-256 when the caller has computed it already."""
    from core.inference.load import load_model

    return load_model(path, "auto", device, threads=live_cpu_threads(), precision="auto",
                      bundle_sha=bundle_sha)


def _default_opener(spec: str) -> CameraSource:
    from core.camera.registry import open_source

    return open_source(spec)


class LiveSession:
    def __init__(self, recipe: Recipe, bundle_path: str | Path | None, source_spec: str, *,
                 mode: DeliveryMode | str = DeliveryMode.LIVE, device: str = "auto",
                 results: ResultsSink | None = None,
                 history: ScoreHistory | None = None, counters: ShiftCounters | None = None,
                 inferencer: Inferencer | None = None,
                 inferencer_factory: Callable[[Path, str, str | None], Inferencer] = _default_inferencer,
                 source_opener: Callable[[str], CameraSource] = _default_opener,
                 queue_size: int = 32, stall_timeout: float = 3.0,
                 line=None, stop_line_on_close: bool = True) -> None:
        """``inferencer`` (already loaded) wins over ``bundle_path`` + ``inferencer_factory``
        (called with the bundle's path, ``device`` and its SHA-256 if known, else None).
        ``line``: a started core.lineio.hub.LineInterface that gets every result and the
        session's state (:mod:`core.inspection.line_link`); closed with the session unless
        ``stop_line_on_close`` is False."""
        try:
            mode = DeliveryMode(mode)
        except ValueError:
            names = " or ".join(repr(m.value) for m in DeliveryMode)
            raise ValueError(f"session mode must be {names}, got {mode!r}") from None
        if inferencer is None and bundle_path is None:
            raise ValueError(f"recipe '{recipe.name}' has no active model version (nothing to inspect with)")
        self.recipe = recipe
        self.bundle_path = None if bundle_path is None else Path(bundle_path)
        self.source_spec = source_spec
        self.mode = mode
        self.device = device
        self.results = results
        self.history = history if history is not None else ScoreHistory()
        self.counters = counters if counters is not None else ShiftCounters()
        self.inferencer = inferencer
        self._factory, self._opener = inferencer_factory, source_opener
        self._queue_size, self._stall_timeout = queue_size, stall_timeout
        self.faults = FaultTracker()
        self.line = None if line is None else SessionLine(line, stop_line_on_close)
        self.source: CameraSource | None = None
        self.grabber: Grabber | None = None
        self.worker: InspectionWorker | None = None
        self.recorder: ResultRecorder | None = None
        self.phase = "stopped"

    # --- life cycle -------------------------------------------------------------------------
    def open(self) -> None:
        """Load the model, open the camera, start the threads (blocking). On failure everything
        opened so far is released and the error is raised."""
        try:
            if self.inferencer is None:
                self.phase = "loading model"
                self.inferencer = self.load_model(self.bundle_path)
            inspector = Inspector.from_recipe(self.inferencer, self.recipe)
            self.phase = "opening camera"
            self.source = self._opener(self.source_spec)
            self.grabber = Grabber(self.source, self.mode, queue_size=self._queue_size,
                                   stall_timeout=self._stall_timeout)
            self.grabber.events.add_listener(self.faults)
            if self.results is not None:
                self.recorder = ResultRecorder(self.results,
                                               labels=getattr(self.counters, "labels_at", None))
            self.worker = InspectionWorker(
                inspector, self.grabber, history=self.history,
                counters=self.counters,
                consumers=[c for c in (self.recorder, self.line) if c is not None],
                parallel=worker_parallelism(self.inferencer))
            self.worker.start()
            if self.line is not None:
                self.line.opened(self.recipe, self.counters, inspector.model_version)
            self.grabber.start()
            settle_heap()
            self.phase = "running"
        except BaseException:
            self.close()
            raise

    def close(self, timeout: float = 10.0, drain: bool = False) -> bool:
        """Stop the grabber, the worker and the recorder; True when every thread has ended.
        ``drain``: the frames already taken from the camera are inspected (and recorded)
        before the worker stops."""
        ok = True
        if self.grabber is not None:
            self.grabber.stop(timeout)
            ok &= not self.grabber.running
        elif self.source is not None:
            self.source.close()
        if self.worker is not None:
            ok &= self.worker.stop(timeout, drain=drain)
        if self.recorder is not None:
            ok &= self.recorder.close(timeout)
        if self.line is not None:
            ok &= self.line.closed(min(timeout, 5.0))
        self.phase = "stopped"
        return ok

    # --- model ------------------------------------------------------------------------------
    def load_model(self, bundle_path: str | Path) -> Inferencer:
        """Load a model bundle the way this session does (blocking; nothing is switched). A
        recipe's stored version is refused unless its bytes are the ones recorded when it was
        added (VersionError, one line); the hash that check computed is handed to the loader,
        so the bundle is read for hashing once."""
        from core.store.versions import check_stored_bundle

        sha = check_stored_bundle(bundle_path)
        return self._factory(Path(bundle_path), self.device, sha)

    def switch_model(self, recipe: Recipe, bundle_path: str | Path,
                     inferencer: Inferencer | None = None) -> None:
        """Inspect with another model version of ``recipe`` from the next frame on, without
        stopping the camera (blocking while the model loads; call it off the GUI thread).
        ``inferencer``: already loaded from ``bundle_path``. On failure the current model
        keeps inspecting and the error is raised."""
        if self.worker is None:
            raise RuntimeError("switch_model: the session is not running")
        if inferencer is None:
            inferencer = self.load_model(bundle_path)
        inspector = Inspector.from_recipe(inferencer, recipe)
        self.worker.set_inspector(inspector)
        self.recipe, self.bundle_path, self.inferencer = recipe, Path(bundle_path), inferencer
        if self.line is not None:
            self.line.model_switched(recipe, inspector.model_version)
        _log.info("recipe '%s': now inspecting with model version %s (%s)", recipe.name,
                  recipe.active_version, backend_label(inferencer))

    # --- use --------------------------------------------------------------------------------
    @property
    def inspector(self) -> Inspector | None:
        return None if self.worker is None else self.worker.inspector

    def latest(self) -> InspectionResult | None:
        return None if self.worker is None else self.worker.latest()

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Put thresholds in force for the next frames (saving them is the recipe store's job)."""
        if self.worker is not None:
            self.worker.inspector.set_thresholds(thresholds)
        self.recipe.thresholds = replace(thresholds)  # a copy: the caller may change its own

    def status(self) -> SessionStatus:
        model = self._model_status()
        if self.grabber is None or self.worker is None:
            return SessionStatus(source=self.source_spec, state=self.phase, **model)
        g, w = self.grabber.stats(), self.worker.stats()
        rec = self.recorder
        state = g.state if self.phase == "running" else self.phase
        errors = [e for e in (w.last_error, rec.last_error if rec else "") if e]
        return SessionStatus(
            source=g.source_id, state=state, camera_fps=g.fps, inspected_fps=w.inspected_fps,
            received=g.received, dropped=g.overruns + g.incomplete,
            skipped=g.skipped,
            latency_ms=w.last_latency_ms, fault=self.faults.text, inspection_errors=w.errors,
            unrecorded=rec.lost if rec else 0, last_error=errors[-1] if errors else "",
            alarm=rec.alarm if rec else "", **model)

    def _model_status(self) -> dict:
        inspector, inf = self.inspector, self.inferencer
        if inf is None:
            return {}
        version = inspector.model_version if inspector is not None else self.recipe.active_version
        label = backend_label(inf)
        frames = self.worker.parallel if self.worker is not None else 1
        if frames > 1 and label.endswith(")"):
            label = f"{label[:-1]} × {frames} frames)"  # e.g. "onnxruntime (CPU, 1 thread × 2 frames)"
        return {"model_version": version, "backend": label, "backend_details": backend_details(inf)}
