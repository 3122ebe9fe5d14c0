"""The engine's open alarms on the line interface's alarm output (the stack light): an
AlarmEngine listener calling ``LineInterface.update_state(alarm=...)``, which never blocks
(each link has its own thread and queue)."""

from __future__ import annotations

from core.alarms.engine import Alarm, AlarmEngine


class LineAlarm:
    def __init__(self, line, engine: AlarmEngine) -> None:
        self.line, self.engine = line, engine
        engine.add_listener(self)
        self(None, None)

    def __call__(self, event: str | None, alarm: Alarm | None) -> None:
        self.line.update_state(alarm=self.engine.text())

    def close(self) -> None:
        self.engine.remove_listener(self)
        self.line.update_state(alarm="")
