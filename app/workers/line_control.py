"""The station's line interface as the GUI holds it: built from ``<data_dir>/line_io.toml``,
started, restarted after the engineer's *Apply* and stopped, all in its own
:class:`~app.workers.background.Background` thread (a transport that takes its time to stop
holds up neither the GUI nor the inspection). The line's commands arrive on transport
threads; they are handed on to the GUI thread (``command``), where the session controller
acts on them. The GUI polls :meth:`statuses`, :meth:`signals` and :meth:`stats` on timers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.workers.background import Background, Done, gui_callback
from app.workers.line_slot import LineSlot
from core.lineio.contract import LineCommand, LineOutput, LinkStatus
from core.lineio.registry import LineConfigError, TransportContext

_log = logging.getLogger(__name__)


def _default_hub(config, context):
    from core.lineio.hub import LineInterface

    return LineInterface(config, context=context)


class LineControl(QObject):
    changed = Signal()  # the line interface was (re)started or stopped
    command = Signal(object)  # a LineCommand from the line, on the GUI thread
    failed = Signal(str)  # a message for the user

    def __init__(self, data_dir: str | Path, *, camera: Callable = lambda: None,
                 hub_factory: Callable | None = None, parent=None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.slot = LineSlot()
        self.config = None  # the LineConfig in force (None: none could be read)
        self.error = ""  # why the line interface is not running ("" when it is, or none is configured)
        self._camera = camera
        self._factory = hub_factory or (lambda config, context: _default_hub(config, context))
        self._bg = Background("line-control", self)
        self._hand_on = gui_callback(self, self._on_command)
        self._overrides: dict | None = None
        self._closed = False

    # --- queries (GUI thread, never block) ---------------------------------------------------
    @property
    def hub(self):
        return self.slot.hub

    def statuses(self) -> list[LinkStatus]:
        hub = self.hub
        return [] if hub is None else list(hub.statuses())

    def alarm(self) -> str:
        hub = self.hub
        return self.error if hub is None else hub.alarm

    def signals(self):
        hub = self.hub
        return None if hub is None else hub.signals()

    def stats(self):
        hub = self.hub
        return None if hub is None else hub.stats()

    @property
    def busy(self) -> bool:
        return self._bg.busy

    # --- commands (return at once) ------------------------------------------------------------
    def start(self, done: Done | None = None) -> Future:
        """(Re)start from the file on disk (a file that cannot be used: :attr:`error` says why)."""
        return self._bg.submit(self._restart, None, done=self._finish(done))

    def save(self, form: dict, restart: bool = False, done: Done | None = None) -> Future:
        """Judge the page's ``form`` (:mod:`app.lineio.config_form`: the configuration's own
        checks, then each enabled transport built once and dropped, so its options are
        checked too), write line_io.toml and, with ``restart``, run the line interface with it.
        ``done`` gets ("", None), or (the one-line reason, None) when it was refused (nothing
        written) or the line interface could not start with it."""
        if not restart:
            return self._bg.submit(self._save, form, False, done=done)
        return self._bg.submit(self._save, form, True, done=self._finish(done))

    def force(self, output: LineOutput, value, transport: str | None, done: Done | None = None) -> Future:
        """Drive ``output`` by hand on one link (or all: None); the hub logs who did it."""
        return self._bg.submit(self._on_hub, "force", output, value, transport, done=done)

    def send_test(self, decision: str, done: Done | None = None) -> Future:
        return self._bg.submit(self._on_hub, "send_test", decision, None, None, done=done)

    def set_recipe_overrides(self, overrides: dict | None) -> None:
        """The recipe being inspected changes the station's mapping with its own [line_io]
        table (None or empty: the station's mapping as it is)."""
        self._overrides = dict(overrides) if overrides else None
        self.slot.set_mapping(self._mapping())

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop the line interface and wait; True when it stopped in time."""
        if self._closed:
            return True
        self._closed = True
        self._bg.shutdown(wait=True)
        hub = self.hub
        self.slot.attach(None)
        return True if hub is None else bool(hub.stop(timeout))

    # --- line-control thread -----------------------------------------------------------------
    def _save(self, form: dict, restart: bool) -> str:
        from app.lineio.config_form import config_of
        from core.lineio.config import save_line_config
        from core.lineio.registry import build_transport

        try:
            config = config_of(form)
            context = TransportContext(data_dir=self.data_dir, camera=self._camera)
            for i, t in enumerate(config.transports, start=1):
                if t.enabled:
                    build_transport(t.kind, t.options, context, where=f"line_io transport {i}").stop()
        except (LineConfigError, ImportError) as exc:  # the engineer's input: one line
            return str(exc)
        save_line_config(self.data_dir, config)
        _log.info("line I/O configuration saved to %s", self.data_dir / "line_io.toml")
        return self._restart(config) if restart else ""

    def _mapping(self):
        """The station's mapping with the recipe's overrides (None before a config is read)."""
        station = getattr(self.config, "mapping", None)
        if station is None or not self._overrides:
            return station
        try:
            return station.merged(self._overrides)
        except (LineConfigError, ValueError) as exc:  # the recipe's table: said, station's kept
            _log.warning("recipe line_io overrides not used: %s", exc)
            return station

    def _restart(self, config) -> str:
        """"" when started (or nothing is configured), else why not, in one line."""
        old = self.hub
        self.slot.attach(None)
        if old is not None and not old.stop(5.0):
            _log.warning("the previous line interface did not stop in time")
        self.error = ""
        if config is None:
            try:
                from core.lineio.config import load_line_config
            except ImportError as exc:  # a build without the line interface: nothing to run
                _log.info("line I/O is not available: %s", exc)
                return ""
            try:
                config = load_line_config(self.data_dir)
            except LineConfigError as exc:  # the user's file: one line, no traceback
                self.config, self.error = None, str(exc)
                return self.error
        self.config = config
        if not any(t.enabled for t in config.transports):
            _log.info("line I/O: no transport enabled")
            return ""
        context = TransportContext(data_dir=self.data_dir, camera=self._camera)
        try:
            hub = self._factory(config, context)
        except LineConfigError as exc:
            self.error = str(exc)
            return self.error
        try:
            hub.start(self._hand_on)
        except (LineConfigError, OSError, RuntimeError, ValueError) as exc:
            self.error = f"line I/O could not start: {exc}"
            hub.stop(5.0)
            return self.error
        self.slot.attach(hub)
        self.slot.set_mapping(self._mapping())
        _log.info("line I/O started: %s", ", ".join(s.name for s in hub.statuses()))
        return ""

    def _on_hub(self, method: str, *args):
        hub = self.hub
        if hub is None:
            raise RuntimeError("no line interface is running (configure and apply a transport)")
        if method == "force":
            output, value, transport = args
            return hub.force(output, value, transport=transport, who="engineer")
        return hub.send_test(args[0])

    def _finish(self, done: Done | None) -> Done:
        def finished(result, error) -> None:
            said = error or result
            if said:
                self.failed.emit(said if said.lower().startswith("line") else f"Line I/O: {said}")
            self.changed.emit()
            if done is not None:
                done(result, error)
        return finished

    # --- GUI thread ---------------------------------------------------------------------------
    def _on_command(self, cmd: LineCommand) -> None:
        if not self._closed:
            self.command.emit(cmd)
