"""The station's shifts for the session controller: one schedule and lot (station.toml's
shift table, :class:`ShiftContext`) shared by one set of :class:`ShiftCounters` per recipe,
so each recipe counts its own parts and switching back to a recipe shows its counts again;
at each shift's end the shift report is written to ``<data>/reports/``, as the headless
station does (once per shift, whichever recipes counted)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from core.inspection.counters import ShiftContext, ShiftCounters

_log = logging.getLogger(__name__)


class ShiftSlot:
    def __init__(self, data_dir: Path, clock: Callable[[], float], line_slot,
                 running_recipe: Callable[[], str | None],
                 results: Callable[[], object | None] = lambda: None) -> None:
        """``line_slot``: the controller's line (its counters restart with the running
        recipe's shift); ``running_recipe()``: the recipe being inspected, None when stopped;
        ``results()``: the results store, None before the first start (no report then)."""
        self._line, self._running, self._results = line_slot, running_recipe, results
        self.config_error = ""  # a wrong station.toml shift table, "" when it is fine
        self.context = ShiftContext(self._load_schedule(data_dir), clock=clock)
        self.reports = None  # writes each shift's report when it ends (see _shift_ended)
        if self.context.schedule is not None:
            from core.shifts.auto_report import ShiftReportWriter

            self.reports = ShiftReportWriter(None, Path(data_dir) / "reports", self.context.schedule.tz)
        self._by_recipe: dict[str, ShiftCounters] = {}
        self.counters = self._new("")  # the current recipe's (see select)

    def _new(self, recipe_name: str) -> ShiftCounters:
        counters = ShiftCounters(self.context, recipe_name)
        counters.add_rollover_listener(self._shift_ended)
        return counters

    def select(self, recipe_name: str) -> ShiftCounters:
        """Make ``recipe_name``'s counters the current ones (made on first use)."""
        if not self._by_recipe:  # the counters made before any recipe become the first one's
            self._by_recipe[recipe_name] = self.counters
            self.counters.recipe = recipe_name
        if recipe_name not in self._by_recipe:
            self._by_recipe[recipe_name] = self._new(recipe_name)
        self.counters = self._by_recipe[recipe_name]
        return self.counters

    def _shift_ended(self, final, span) -> None:
        """A recipe's shift ended: the line's counters of the running one restart too, and
        the shift's report is written (from a thread of its own)."""
        if self._running() == final.recipe:
            self._line.update_state(ok=0, review=0, ng=0, late=0)
        store = self._results()
        if self.reports is not None and store is not None:
            self.reports.store = store
            self.reports(final, span)

    def _load_schedule(self, data_dir: Path):
        """The shift schedule of station.toml; a wrong file is said in the log and in
        :attr:`config_error`, and counting goes on without shifts."""
        from core.shifts.config import ShiftConfigError, load_schedule

        try:
            return load_schedule(data_dir)
        except ShiftConfigError as exc:
            self.config_error = str(exc)
            _log.error("shifts not used: %s", exc)
            return None
