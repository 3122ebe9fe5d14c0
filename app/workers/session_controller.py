"""Qt adapter around :class:`core.inspection.session.LiveSession`.

Every slow operation (loading a model, opening a camera, stopping threads, saving a recipe,
writing a snapshot) runs in one background thread, in order; the GUI learns the outcome
through signals and never waits. The GUI polls :meth:`latest` and :meth:`status` on its own
repaint timer, so results never queue up in the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.first_run import DEMO_NAME, ensure_demo_recipe
from core.inspection.counters import ShiftCounters
from core.inspection.history import ScoreHistory
from core.inspection.result import InspectionResult
from core.inspection.session import LiveSession, SessionStatus
from core.inspection.snapshot import save_snapshot
from core.store.recipe import Recipe, Thresholds
from core.store.recipes import RecipeStore
from core.store.results import ResultsStore

_log = logging.getLogger(__name__)
DEFAULT_SOURCE = "sim"


def _message(exc: BaseException) -> str:
    if isinstance(exc, (ValueError, RuntimeError, OSError)) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class SessionController(QObject):
    busyChanged = Signal(str)  # what is being done, "" when idle
    runningChanged = Signal(bool)
    failed = Signal(str)  # a message for the user
    recipeActivated = Signal(object)  # the Recipe now inspecting
    thresholdsSaved = Signal(object)  # Thresholds written to the recipe and in force
    snapshotSaved = Signal(str)  # path of the snapshot's JSON file

    def __init__(self, data_dir: str | Path | None = None, *, source: str | None = None,
                 mode: str = "live", device: str = "auto", history_size: int = 500,
                 session_factory: Callable[..., LiveSession] = LiveSession, parent=None) -> None:
        super().__init__(parent)
        self.recipes = RecipeStore(data_dir)
        self.data_dir = self.recipes.data_dir
        self.source_override = source
        self.mode, self.device = mode, device
        self.history = ScoreHistory(history_size)
        self.counters = ShiftCounters()
        self.session: LiveSession | None = None
        self.results: ResultsStore | None = None
        self._factory = session_factory
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-control")
        self._busy = ""
        self._closed = False

    # --- queries (GUI thread, cheap) --------------------------------------------------------
    def recipe_names(self) -> list[str]:
        return self.recipes.names()

    def latest(self) -> InspectionResult | None:
        s = self.session
        return None if s is None else s.latest()

    def status(self) -> SessionStatus:
        s = self.session
        return SessionStatus(source=self.source_override or "-") if s is None else s.status()

    @property
    def busy(self) -> str:
        return self._busy

    @property
    def running(self) -> bool:
        return self.session is not None

    # --- commands (return at once; the work happens in the control thread) -------------------
    def start(self, recipe_name: str, source: str | None = None) -> Future:
        return self._submit("Starting", self._do_start, recipe_name, source)

    def stop(self) -> Future:
        return self._submit("Stopping", self._do_stop)

    def apply_thresholds(self, thresholds: Thresholds) -> Future:
        return self._submit("Saving thresholds", self._do_apply, thresholds)

    def snapshot(self, result: InspectionResult, opacity: float = 0.45) -> Future:
        return self._submit("Saving snapshot", self._do_snapshot, result, opacity)

    def inject_fault(self, kind: str, seconds: float = 2.0) -> None:
        """Simulated sources only: make the camera fail (for demos and tests)."""
        s = self.session
        inject = getattr(getattr(s, "source", None), "inject_fault", None)
        if inject is None:
            raise RuntimeError("fault injection needs a running simulated or replay source")
        inject(kind, seconds=seconds)

    def shutdown(self, timeout: float = 15.0) -> bool:
        """Stop everything and wait (used when the window closes); True when all threads ended."""
        if self._closed:
            return True
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        ok = self._close_session(timeout)
        if self.results is not None:
            try:
                self.results.close(timeout)
            except Exception as exc:  # reported, the window still closes
                _log.error("closing the results store: %s", exc)
                ok = False
            self.results = None
        return ok

    # --- control thread ---------------------------------------------------------------------
    def _submit(self, what: str, fn: Callable, *args) -> Future:
        if self._closed:
            raise RuntimeError("SessionController is shut down")
        return self._pool.submit(self._guarded, what, fn, *args)

    def _guarded(self, what: str, fn: Callable, *args):
        self._busy = what
        self.busyChanged.emit(what)
        try:
            return fn(*args)
        except Exception as exc:
            _log.exception("%s failed", what)
            self.failed.emit(f"{what} failed: {_message(exc)}")
            return None
        finally:
            self._busy = ""
            self.busyChanged.emit("")

    def _do_start(self, recipe_name: str, source: str | None) -> None:
        self._close_session()
        if recipe_name == DEMO_NAME and not self.recipes.exists(DEMO_NAME):
            self.busyChanged.emit("Installing the demo recipe")
            ensure_demo_recipe(self.recipes)
        recipe = self.recipes.get(recipe_name)
        bundle = self.recipes.active_bundle_path(recipe_name)
        spec = source or self.source_override or recipe.camera.source or DEFAULT_SOURCE
        if self.results is None:
            self.results = ResultsStore(self.data_dir)
        self.busyChanged.emit(f"Loading model and opening {spec}")
        session = self._factory(recipe, bundle, spec, mode=self.mode, device=self.device,
                                results=self.results, history=self.history, counters=self.counters)
        self.history.clear()  # scores of another model or recipe are not comparable
        session.open()
        self.session = session
        self.recipeActivated.emit(session.recipe)
        self.runningChanged.emit(True)

    def _do_stop(self) -> None:
        self._close_session()

    def _close_session(self, timeout: float = 10.0) -> bool:
        s = self.session
        if s is None:
            return True
        ok = s.close(timeout)
        self.session = None
        self.runningChanged.emit(False)
        if not ok:
            self.failed.emit("some inspection threads did not stop in time")
        return ok

    def _do_apply(self, thresholds: Thresholds) -> None:
        s = self.session
        if s is None:
            raise RuntimeError("no recipe is running")
        recipe = self.recipes.get(s.recipe.name)
        recipe.thresholds = Thresholds(thresholds.ok_limit, thresholds.ng_limit, thresholds.pixel)
        self.recipes.save(recipe)
        s.set_thresholds(thresholds)
        self.thresholdsSaved.emit(thresholds)

    def _do_snapshot(self, result: InspectionResult, opacity: float) -> str:
        path = save_snapshot(result, self.data_dir / "snapshots", opacity=opacity)
        self.snapshotSaved.emit(str(path))
        return str(path)
