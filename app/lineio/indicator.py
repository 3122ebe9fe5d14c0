"""The operator's link indicator: a dot and "Line I/O: 2/2 links" in the status bar; green
when every link is connected, amber while one is connecting, red with the line interface's
alarm when one is down (each link in the tooltip); hidden when no transport is configured."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.widgets.elided_label import ElidedLabel
from core.lineio.contract import LinkStatus

LINK_COLOURS = {"connected": "#1e8e3e", "connecting": "#f29900", "stopped": "#f29900",
                "down": "#c5221f"}


@dataclass(frozen=True)
class IndicatorView:
    visible: bool
    colour: str = ""  # one of LINK_COLOURS' values
    text: str = ""
    tooltip: str = ""


def link_line(s: LinkStatus) -> str:
    """One link in a few words (tooltips, the page's log)."""
    detail = f" ({s.detail})" if s.detail else ""
    return f"{s.name}: {s.state}{detail}; sent {s.sent}, failed {s.failed}, queued {s.queued}"


def indicator_view(statuses: list[LinkStatus], alarm: str = "", error: str = "") -> IndicatorView:
    """What the indicator shows for these links and the hub's alarm; ``error`` is why the
    line interface could not be started at all (a bad line_io.toml), shown red."""
    if error:
        return IndicatorView(True, LINK_COLOURS["down"], f"Line I/O: {error}", error)
    if not statuses:
        return IndicatorView(False)
    up = sum(s.state == "connected" for s in statuses)
    links = f"{up}/{len(statuses)} link{'s' if len(statuses) != 1 else ''}"
    tip = "\n".join(link_line(s) for s in statuses)
    if any(s.state == "down" for s in statuses):
        said = alarm or ", ".join(f"{s.name} down" for s in statuses if s.state == "down")
        return IndicatorView(True, LINK_COLOURS["down"], f"Line I/O: {said}",
                             f"{alarm}\n\n{tip}" if alarm else tip)
    if up < len(statuses):
        return IndicatorView(True, LINK_COLOURS["connecting"], f"Line I/O: {links} (connecting)", tip)
    return IndicatorView(True, LINK_COLOURS["connected"], f"Line I/O: {links}", tip)


def dot_style(colour: str, size: int = 10) -> str:
    return f"background-color: {colour}; border-radius: {size // 2}px;"


class LinkIndicator(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.dot = QLabel()
        self.dot.setFixedSize(10, 10)
        self.label = ElidedLabel("")
        self.label.setMaximumWidth(420)  # an alarm never pushes the camera status off the bar
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 0)
        row.setSpacing(5)
        row.addWidget(self.dot)
        row.addWidget(self.label)
        self.view = IndicatorView(False)
        self.setVisible(False)

    def show_view(self, view: IndicatorView) -> None:
        if view == self.view:
            return
        self.view = view
        self.setVisible(view.visible)
        self.dot.setStyleSheet(dot_style(view.colour) if view.colour else "")
        self.label.setText(view.text)
        self.setToolTip(view.tooltip)
        self.label.setToolTip(view.tooltip)
