"""Qt adapter around :class:`core.inspection.session.LiveSession`.

Every slow operation (loading a model, opening a camera, stopping threads, saving a recipe,
writing a snapshot) runs in one :class:`~app.workers.background.Background` thread, in order;
the GUI learns the outcome through signals and never waits. The GUI polls :meth:`latest` and :meth:`status` on its own
repaint timer, so results never queue up in the event loop.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.alarms.station import close_alarms, install_alarms
from app.workers import model_switch
from app.workers.background import Background
from app.workers.line_commands import LineCommandError, carry_out
from app.workers.line_control import LineControl
from app.workers.shift_slot import ShiftSlot
from core.camera.delivery import DeliveryMode
from core.demo import DEMO_NAME, ensure_demo_recipe
from core.inspection.counters import ShiftCounters
from core.inspection.frame_tap import FrameTap
from core.inspection.history import ScoreHistory
from core.inspection.result import InspectionResult
from core.inspection.session import LiveSession, SessionStatus
from core.inspection.snapshot import save_snapshot
from core.lineio.contract import LineCommand
from core.recipe import Recipe, Thresholds
from core.store.recipe_store import RecipeStore
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
    recipesChanged = Signal()  # recipes or their model versions changed on disk
    modelSwitched = Signal(str, int)  # (recipe, version): the running session now uses it
    pausedChanged = Signal(str)  # why live inspection is paused (e.g. for training), "" when not
    lineCommand = Signal(object, str)  # (LineCommand, what was done): an order from the line, carried out
    recipeSelected = Signal(str)  # the line selected a recipe (RECIPE while stopped: START starts it)
    alarmAcknowledged = Signal()  # the line acknowledged the alarm (ACK_ALARM)

    def __init__(self, data_dir: str | Path | None = None, *, source: str | None = None,
                 mode: DeliveryMode | str = DeliveryMode.LIVE, device: str = "auto", history_size: int = 500,
                 session_factory: Callable[..., LiveSession] = LiveSession,
                 line_factory: Callable | None = None, clock: Callable[[], float] = time.time,
                 parent=None) -> None:
        """``line_factory(config, context)``: the line interface (default: core.lineio.hub's);
        ``clock``: wall time for shifts, alarms and the audit trail (tests: a fake one)."""
        super().__init__(parent)
        self.recipes = RecipeStore(data_dir)
        self.data_dir = self.recipes.data_dir
        self.source_override = source
        self.mode, self.device = mode, device
        self.history = ScoreHistory(history_size)
        self.session: LiveSession | None = None
        self.results: ResultsStore | None = None
        self._factory = session_factory
        self._control = Background("session-control", self)
        self._busy = ""
        self._closed = False
        self._start_source: str | None = None  # the explicit source of the last start
        self._paused: tuple[str, str | None, str] | None = None  # (recipe, source, why)
        self._selected: str | None = None  # the recipe the line (or the last start) selected
        # what START from the line starts; the window makes it its recipe selector's choice
        self.selected_recipe: Callable[[], str | None] = lambda: self._selected
        extra = {} if line_factory is None else {"hub_factory": line_factory}
        self.line = LineControl(self.data_dir, camera=lambda: getattr(self.session, "source", None),
                                parent=self, **extra)
        self.line.command.connect(self._on_line_command)
        self.line.start()
        # the station's shift schedule and lot, shared by each recipe's counters
        self.shifts = ShiftSlot(self.data_dir, clock, self.line.slot,
                                lambda: getattr(getattr(self.session, "recipe", None), "name", None),
                                results=lambda: self.results)
        self.shift_context, self.shift_config_error = self.shifts.context, self.shifts.config_error
        install_alarms(self, clock)  # self.audit, self.alarms (ticked off the inspection thread)

    @property
    def counters(self) -> ShiftCounters:
        """The shift counters of the recipe being inspected (see :meth:`select_counters`)."""
        return self.shifts.counters

    def select_counters(self, recipe_name: str) -> ShiftCounters:
        """Make ``recipe_name``'s shift counters the current ones: each recipe counts its own
        parts, and switching back to a recipe shows its counts again."""
        return self.shifts.select(recipe_name)

    def select_recipe(self, name: str) -> None:
        """Make ``name`` the recipe START starts (the line's RECIPE while stopped)."""
        self._selected = name
        self.recipeSelected.emit(name)

    def _on_line_command(self, cmd: LineCommand) -> None:
        """An order from the line, on the GUI thread (LineControl hands it over)."""
        try:
            said = carry_out(self, cmd)
        except (LineCommandError, RuntimeError) as exc:
            said = f"{str(cmd.kind).upper()} from {cmd.source or 'the line'} refused: {exc}"
            _log.warning("line command %s", said)
            self.failed.emit(f"Line I/O: {said}")
        else:
            _log.info("line command from %s: %s", cmd.source or "the line", said)
        self.lineCommand.emit(cmd, said)

    # --- queries (GUI thread, cheap) --------------------------------------------------------
    def recipe_names(self) -> list[str]:
        return self.recipes.names()

    def latest(self) -> InspectionResult | None:
        s = self.session
        return None if s is None else s.latest()

    def status(self) -> SessionStatus:
        s = self.session
        return SessionStatus(source=self.source_override or "-") if s is None else s.status()

    def camera_tap(self, spec: str) -> FrameTap | None:
        """A read-only view of the running session's camera when it is ``spec`` (so that a
        second user, the training wizard, does not open the same camera again); else None."""
        s = self.session
        if s is None or s.source_spec != spec:
            return None

        def grabber():
            live = self.session
            return live.grabber if live is not None and live.source_spec == spec else None

        return FrameTap(grabber, spec)

    def live_source(self) -> str | None:
        """The camera SOURCE the running session inspects, None when stopped."""
        s = self.session
        return None if s is None else s.source_spec

    @property
    def paused(self) -> str:
        """Why live inspection is paused (:meth:`pause_live`), "" when it is not."""
        p = self._paused
        return p[2] if p else ""

    @property
    def busy(self) -> str:
        return self._busy

    @property
    def running(self) -> bool:
        return self.session is not None

    # --- commands (return at once; the work happens in the control thread) -------------------
    def start(self, recipe_name: str, source: str | None = None) -> Future:
        return self._submit("Starting", self._start_by_hand, recipe_name, source)

    def pause_live(self, why: str) -> Future:
        """Stop inspecting for a while (the training wizard wants the CPU); :meth:`resume_live`
        starts the same recipe on the same camera again. Nothing happens when stopped."""
        return self._submit("Pausing live inspection", self._do_pause, why)

    def resume_live(self) -> Future:
        """Undo :meth:`pause_live`, unless inspection was started by hand meanwhile."""
        return self._submit("Resuming live inspection", self._do_resume)

    def stop(self) -> Future:
        return self._submit("Stopping", self._do_stop)

    def use_active_model(self, recipe_name: str) -> Future:
        """The recipe's active model version changed (e.g. the wizard deployed one): if that
        recipe is being inspected, switch the running session to it without stopping."""
        return self._submit("Loading the new model", model_switch.use_active, self, recipe_name)

    def activate_version(self, recipe_name: str, version: int) -> Future:
        """Make ``version`` the recipe's active model (rollback = an earlier one); when the
        recipe is being inspected the model is loaded first and switched to without a stop."""
        return self._submit(f"Activating model v{version}", model_switch.activate, self, recipe_name,
                            version)

    def apply_thresholds(self, thresholds: Thresholds) -> Future:
        return self._submit("Saving thresholds", self._do_apply, thresholds)

    def edit_recipe(self, name: str, change: Callable[[Recipe], Recipe | None],
                    done: Callable | None = None) -> Future:
        """Save ``change`` to recipe ``name`` (RecipeStore.update: read, changed and written
        under its lock) in the control thread; when the recipe is being inspected its alarm
        rules are in force from the next result, no restart. ``done(recipe, error)`` runs on
        the GUI thread (the caller says the error where the change was asked)."""
        return self._control.submit(self._do_edit, name, change, done=done)

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
        self._control.shutdown(wait=True)
        ok = self._close_session(timeout)
        ok &= close_alarms(self)
        ok &= self.line.shutdown(min(timeout, 5.0))
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
        return self._control.submit(self._guarded, what, fn, *args)

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

    def _start_by_hand(self, recipe_name: str, source: str | None) -> None:
        if self._paused is not None:  # the operator's start ends the pause
            self._paused = None
            self.pausedChanged.emit("")
        self._do_start(recipe_name, source)

    def _do_pause(self, why: str) -> None:
        s = self.session
        if s is None or self._paused is not None:
            return
        self._paused = (s.recipe.name, self._start_source, why)
        self._close_session()
        self.pausedChanged.emit(why)

    def _do_resume(self) -> None:
        paused, self._paused = self._paused, None
        if paused is None:
            return
        try:
            if self.session is None:
                self._do_start(paused[0], paused[1])
        finally:
            self.pausedChanged.emit("")

    def _do_start(self, recipe_name: str, source: str | None) -> None:
        self._close_session()
        self._start_source = source
        if recipe_name == DEMO_NAME and not self.recipes.exists(DEMO_NAME):
            self.busyChanged.emit("Installing the demo recipe")
            ensure_demo_recipe(self.recipes)
        recipe = self.recipes.get(recipe_name)
        bundle = self.recipes.active_bundle_path(recipe_name)
        spec = self._source_for(recipe, source)
        if self.results is None:
            self.results = ResultsStore(self.data_dir)
        self.busyChanged.emit(f"Loading model and opening {spec}")
        session = self._factory(recipe, bundle, spec, mode=self.mode, device=self.device,
                                results=self.results, history=self.history,
                                counters=self.select_counters(recipe.name),
                                line=self.line.slot, stop_line_on_close=False)
        self.history.clear()  # scores of another model or recipe are not comparable
        session.open()
        self._attach_line(session)
        self.alarms.attach(session)
        self.session = session
        self._selected = recipe.name
        self.recipeActivated.emit(session.recipe)
        self.runningChanged.emit(True)

    def _attach_line(self, session: LiveSession) -> None:
        """The recipe's mapping and READY for the line (the session itself sends the line its
        results, BUSY and counters; the line outlives it: a stopped session leaves the links up)."""
        self.line.set_recipe_overrides(getattr(session.recipe, "line_io", None))
        self.line.slot.update_state(ready=True, busy=False, error="", recipe=session.recipe.name,
                                    model_version=session.recipe.active_version)

    def _source_for(self, recipe: Recipe, source: str | None = None) -> str:
        return source or self.source_override or recipe.camera.source or DEFAULT_SOURCE

    def _running(self, recipe_name: str) -> LiveSession | None:
        s = self.session
        return s if s is not None and s.recipe.name == recipe_name else None

    def _do_stop(self) -> None:
        self._close_session()

    def _close_session(self, timeout: float = 10.0) -> bool:
        s = self.session
        if s is None:
            return True
        self.line.slot.update_state(ready=False, busy=False)
        self.alarms.detach()
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
        new = dataclasses.replace(thresholds)  # the recipe gets its own copy
        # read, change and write under the recipe's lock: keeps other programs' changes
        self.recipes.update(s.recipe.name, lambda recipe: setattr(recipe, "thresholds", new))
        s.set_thresholds(thresholds)
        self.thresholdsSaved.emit(thresholds)

    def _do_edit(self, name: str, change: Callable[[Recipe], Recipe | None]) -> Recipe:
        recipe = self.recipes.update(name, change)
        if self._running(name) is not None:
            self.alarms.use_rules(recipe)
        return recipe

    def _do_snapshot(self, result: InspectionResult, opacity: float) -> str:
        path = save_snapshot(result, self.data_dir / "snapshots", opacity=opacity)
        self.snapshotSaved.emit(str(path))
        return str(path)
