"""Camera status line: source, fps received, dropped / skipped frames, latency, fault, busy state."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar


@dataclass(frozen=True)
class StatusInfo:
    """Everything the status bar shows; produced by the pipeline adapter, read by the GUI."""

    source: str = "—"
    state: str = "stopped"  # stopped / starting / running / fault / stopping
    fps: float = 0.0  # frames received per second
    inspected_fps: float = 0.0
    dropped: int = 0  # frames the camera grabber dropped (newest-only delivery, queue full)
    skipped: int = 0  # frames the inspection worker skipped to stay live
    latency_ms: float | None = None  # model inference time of the last frame
    fault: str = ""  # plain words, empty when all is well


class CameraStatusBar(QStatusBar):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.source_label = QLabel("—")
        self.rate_label = QLabel("")
        self.drop_label = QLabel("")
        self.latency_label = QLabel("")
        self.fault_label = QLabel("", objectName="faultText")
        self.fault_label.setVisible(False)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setMaximumWidth(120)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        self.busy_label = QLabel("")
        self.addWidget(self.source_label)
        self.addWidget(self.rate_label)
        self.addWidget(self.drop_label)
        self.addWidget(self.latency_label)
        self.addWidget(self.fault_label)
        self.addPermanentWidget(self.busy_label)
        self.addPermanentWidget(self.busy)
        self._last: StatusInfo | None = None

    def set_busy(self, text: str) -> None:
        """Show an indeterminate progress bar with ``text``; empty text hides it."""
        self.busy.setVisible(bool(text))
        self.busy_label.setText(text)

    def show_status(self, info: StatusInfo) -> None:
        if info == self._last:
            return
        self._last = info
        self.source_label.setText(f"Source: {info.source} ({info.state})")
        self.rate_label.setText(f"  {info.fps:.1f} fps received, {info.inspected_fps:.1f} inspected")
        self.drop_label.setText(f"  dropped {info.dropped}, skipped {info.skipped}")
        lat = "—" if info.latency_ms is None else f"{info.latency_ms:.0f} ms"
        self.latency_label.setText(f"  inference {lat}")
        self.fault_label.setText(info.fault)
        self.fault_label.setVisible(bool(info.fault))
