"""What a live session is given as its line: a stand-in that forwards to the line interface
in force, so the engineer's *Apply* (a new line interface, built from the new configuration)
never has to restart inspection, and the station state and the recipe's mapping set before
the restart carry over to the new one."""

from __future__ import annotations

import threading

from core.inspection.result import InspectionResult


class LineSlot:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hub = None
        self._state: dict = {}
        self._mapping = None

    @property
    def hub(self):
        return self._hub

    def attach(self, hub) -> None:
        """Forward to ``hub`` from now on (None: to nobody), replaying the state and mapping."""
        with self._lock:
            self._hub = hub
            state, mapping = dict(self._state), self._mapping
        if hub is not None:
            if mapping is not None:
                hub.set_mapping(mapping)
            if state:
                hub.update_state(**state)

    def start(self, commands=None) -> None:
        """The controller starts and stops the line interface, not a session: a stopped
        session leaves the links up (READY off), so the PLC still sees the station."""

    def stop(self, timeout: float = 5.0) -> bool:
        return True

    def __getattr__(self, name: str):
        """Anything else a session asks of its line goes to the hub in force."""
        hub = self.__dict__.get("_hub")
        if hub is None or name.startswith("_"):
            raise AttributeError(name)
        return getattr(hub, name)

    def __call__(self, result: InspectionResult) -> None:
        """An inspection worker's consumer: the hub's own call never blocks."""
        hub = self._hub
        if hub is not None:
            hub(result)

    def update_state(self, **fields) -> None:
        with self._lock:
            self._state.update(fields)
            hub = self._hub
        if hub is not None:
            hub.update_state(**fields)

    def set_mapping(self, mapping) -> None:
        """The recipe's mapping (None: the station's own, from line_io.toml)."""
        with self._lock:
            self._mapping = mapping
            hub = self._hub
        if hub is not None and mapping is not None:
            hub.set_mapping(mapping)
