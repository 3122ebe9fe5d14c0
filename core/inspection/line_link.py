"""A live session's results and state as the line interface sees them: every result goes to
the line (an InspectionWorker consumer; the line's call never blocks), and READY / BUSY /
recipe / model version / counters follow the session. The recipe's ``[line_io]`` table is
merged over the station's mapping when the session opens."""

from __future__ import annotations

import logging

from core.inspection.counters import ShiftCounters
from core.inspection.result import InspectionResult

_log = logging.getLogger(__name__)


class SessionLine:
    def __init__(self, line, stop_on_close: bool = True) -> None:
        """``line``: a core.lineio.hub.LineInterface (or anything with its names);
        ``stop_on_close``: the session's close stops it too (False: it outlives the session,
        e.g. across a recipe change)."""
        self.line = line
        self.stop_on_close = stop_on_close

    def opened(self, recipe, counters: ShiftCounters, model_version: int | None) -> None:
        self._apply_mapping(recipe)
        c = counters.snapshot()
        self.line.update_state(ready=True, busy=False, error="", recipe=recipe.name,
                               model_version=model_version, ok=c.ok, review=c.review, ng=c.ng)

    def _apply_mapping(self, recipe) -> None:
        station = getattr(getattr(self.line, "config", None), "mapping", None)
        if station is None:
            return
        try:
            mapping = station.merged(getattr(recipe, "line_io", None))
        except ValueError as exc:  # the recipe was checked on load; say so and keep the station's
            _log.warning("recipe '%s': line_io overrides not used: %s", recipe.name, exc)
            mapping = station
        self.line.set_mapping(mapping)

    def model_switched(self, recipe, model_version: int | None) -> None:
        self._apply_mapping(recipe)
        self.line.update_state(recipe=recipe.name, model_version=model_version)

    def __call__(self, result: InspectionResult) -> None:
        """The worker's consumer: the result out, then BUSY off (the part is done)."""
        self.line(result)
        self.line.update_state(busy=False)

    def closed(self, timeout: float) -> bool:
        self.line.update_state(ready=False, busy=False)
        return bool(self.line.stop(timeout)) if self.stop_on_close else True
