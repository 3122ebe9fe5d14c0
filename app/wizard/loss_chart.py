"""The Train page's chart of the training losses, step by step; a resumed run's chart goes on
from the steps the interrupted run reported (replayed from the run's events file)."""

from __future__ import annotations

import json
from pathlib import Path

import pyqtgraph as pg

CURVES = (("loss", "#e53935"), ("l2", "#1e88e5"), ("ssim", "#43a047"), ("focal", "#fb8c00"))
# DSR's stage 2 (object-specific image and features against the good ones, focal on the mask);
# stage 3 reports focal only
DSR_CURVES = (("loss", "#e53935"), ("l2_image", "#1e88e5"), ("l2_features", "#43a047"),
              ("focal", "#fb8c00"))


def past_events(path: Path) -> list[dict]:
    """The events of the earlier runs, from their events file (unreadable lines skipped)."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict):
            out.append(e)
    return out


class LossChart(pg.PlotWidget):
    def __init__(self) -> None:
        super().__init__(title="Training losses")
        self.setBackground("w")
        self.addLegend(offset=(-10, 10))
        self.setLabel("bottom", "step")
        self.curves: dict = {}
        self.history: dict[str, list[float]] = {}
        self.steps: list[int] = []
        self.set_curves(CURVES)

    def set_curves(self, curves) -> None:
        """The loss parts to draw ((key, colour) pairs: CURVES for DRÆM, DSR_CURVES); clears."""
        if [k for k, _ in curves] == list(self.curves):
            return
        for curve in self.curves.values():
            self.removeItem(curve)
        self.curves.clear()  # the dicts are shared with the Train page: same objects
        self.history.clear()
        self.steps.clear()
        self.curves.update({k: self.plot([], [], pen=pg.mkPen(c, width=2), name=k) for k, c in curves})
        self.history.update({k: [] for k, _ in curves})

    def clear_steps(self) -> None:
        self.keep_steps_until(-1)

    def replay(self, events_file: Path) -> None:
        for e in past_events(events_file):
            if e.get("event") == "start":
                self.keep_steps_until(int(e.get("resumed_from") or 0))
            elif e.get("event") == "progress" and isinstance(e.get("step"), int):
                self.add_losses(e)

    def add_losses(self, e: dict) -> None:
        self.steps.append(e["step"])
        for key, curve in self.curves.items():
            self.history[key].append(float((e.get("losses") or {}).get(key, float("nan"))))
            curve.setData(self.steps, self.history[key])

    def keep_steps_until(self, step: int) -> None:
        """Drop the points after ``step``: a resumed run redoes the steps after its checkpoint."""
        n = sum(1 for s in self.steps if s <= step)
        del self.steps[n:]
        for key, curve in self.curves.items():
            del self.history[key][n:]
            curve.setData(self.steps, self.history[key])
