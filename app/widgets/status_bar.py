"""Camera status line: source, fps received / inspected, dropped and skipped frames, inference
latency, the model version and inference backend, the camera fault in plain words, the line
I/O link indicator and a busy indicator."""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from app.lineio.indicator import IndicatorView, LinkIndicator
from app.widgets.elided_label import ElidedLabel
from core.inference.labels import MODEL_NAMES
from core.inspection.session import SessionStatus

log = logging.getLogger(__name__)


class CameraStatusBar(QStatusBar):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        # every text that can grow is elided (whole text in its tooltip): no message, fault or
        # file name may widen the window past the screen
        self.source_label = ElidedLabel("Source: -")
        self.rate_label = QLabel("")
        self.drop_label = ElidedLabel("")
        self.latency_label = QLabel("")
        self.model_label = ElidedLabel("")
        self.fault_label = ElidedLabel("", objectName="faultText")
        self.fault_label.setVisible(False)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setFixedSize(100, 12)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        self.busy_label = QLabel("")
        self.message_label = ElidedLabel("")
        self._message_timer = QTimer(self, singleShot=True)
        self._message_timer.timeout.connect(lambda: self.message_label.setText(""))
        for w, stretch in ((self.source_label, 2), (self.rate_label, 0), (self.drop_label, 1),
                           (self.latency_label, 0), (self.model_label, 1), (self.fault_label, 2)):
            self.addWidget(w, stretch)
        self.addWidget(self.message_label, 3)
        self.line_indicator = LinkIndicator()  # the line's links; hidden when none is configured
        self.addPermanentWidget(self.line_indicator)
        self.addPermanentWidget(self.busy_label)
        self.addPermanentWidget(self.busy)
        self._last: SessionStatus | None = None

    def notify(self, text: str, ms: int = 6000) -> None:
        """A passing message next to the status (the camera status stays visible); it is also
        logged, and its whole text is the label's tooltip when it does not fit."""
        log.info("%s", text)
        self.message_label.setText(f"| {text}")
        self._message_timer.start(ms)

    def show_line(self, view: IndicatorView) -> None:
        """The link indicator (see :func:`app.lineio.indicator.indicator_view`)."""
        self.line_indicator.show_view(view)

    def set_busy(self, text: str) -> None:
        """Show an indeterminate progress bar with ``text``; empty text hides it."""
        self.busy.setVisible(bool(text))
        self.busy_label.setText(f"{text}…" if text else "")

    def show_status(self, st: SessionStatus) -> None:
        if st == self._last:
            return
        self._last = st
        self.source_label.setText(f"Source: {st.source} ({st.state})")
        self.rate_label.setText(f"| {st.camera_fps:.1f} fps received, {st.inspected_fps:.1f} inspected")
        trouble = ""
        if st.inspection_errors or st.unrecorded:
            trouble = f", {st.inspection_errors} inspection errors, {st.unrecorded} not recorded"
        self.drop_label.setText(f"| dropped {st.dropped}, skipped {st.skipped}{trouble}")
        if st.last_error:
            self.drop_label.setToolTip(st.last_error)
        lat = "-" if st.latency_ms is None else f"{st.latency_ms:.0f} ms"
        self.latency_label.setText(f"| inference {lat}")
        model = "" if st.model_version is None else f"model v{st.model_version}"
        # the backend label names DSR ('DSR · onnxruntime (...)'); a DRÆM model is named here
        named = any(st.backend.startswith(f"{n} · ") for n in MODEL_NAMES.values())
        kind = "DRÆM" if st.backend and not named else ""
        text = " · ".join(p for p in (model, kind, st.backend) if p)
        self.model_label.setText(f"| {text}" if text else "")
        self.model_label.setToolTip(st.backend_details or self.model_label.text())
        trouble = " · ".join(t for t in (st.fault, st.alarm) if t)  # camera fault, results alarm
        self.fault_label.setText(trouble)
        self.fault_label.setVisible(bool(trouble))
