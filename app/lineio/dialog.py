"""The Line I/O page (non-modal, for the engineer): configuration on the left; every signal
live and commissioning on the right, refreshed four times a second from the line interface's
snapshots. Everything that talks to a transport (save's check, restart, force, test) runs in
:class:`~app.workers.line_control.LineControl`'s thread; the page only paints."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QSplitter, QVBoxLayout, QWidget

from app.lineio.commission_panel import CommissionPanel
from app.lineio.config_panel import ConfigPanel
from app.lineio.signals_panel import SignalsPanel
from app.widgets.style import APP_QSS

REFRESH_MS = 250


class LineIoDialog(QDialog):
    def __init__(self, control, parent=None) -> None:
        super().__init__(parent)
        self.control = control
        self.setWindowTitle("Line I/O")
        self.setStyleSheet(APP_QSS)
        self.config = ConfigPanel(f"Station file: {control.data_dir / 'line_io.toml'}")
        self.live = SignalsPanel()
        self.commission = CommissionPanel()
        right = QWidget()
        col = QVBoxLayout(right)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.live, 3)
        col.addWidget(self.commission, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.config)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.config.saveRequested.connect(self._save)
        self.config.revert_button.clicked.connect(self.revert)
        self.commission.forceRequested.connect(self._force)
        self.commission.testRequested.connect(self._test)
        control.changed.connect(self._on_changed)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.finished.connect(lambda _r: self.timer.stop())
        self.resize(1320, 700)
        self.revert()
        self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.timer.start()
        super().showEvent(event)

    # --- painting -----------------------------------------------------------------------------
    def refresh(self) -> None:
        c = self.control
        statuses = c.statuses()
        self.live.show_snapshot(c.signals(), statuses, c.stats(), c.alarm())
        self.commission.set_links([s.name for s in statuses])
        self.commission.set_live(c.hub is not None)

    def revert(self) -> None:
        """Show the configuration in force (and why there is none, if a file could not be used)."""
        self.config.set_config(self.control.config)
        if self.control.error:
            self.config.show_message(self.control.error, error=True)
        else:
            self.config.show_message("")

    def _on_changed(self) -> None:
        if not self.config.save_button.isEnabled():
            return  # our own save: its outcome says what happened
        self.revert()
        self.refresh()

    # --- the engineer's actions ----------------------------------------------------------------
    def _save(self, form: dict, restart: bool) -> None:
        def done(message, error) -> None:
            self.config.saved(message or error or "", restart)
            self.refresh()
        self.control.save(form, restart, done=done)

    def _force(self, output, value, link) -> None:
        where = link or "all links"

        def done(_result, error) -> None:
            if error:
                self.commission.show_message(f"{output.name} not forced: {error}", error=True)
                self.commission.add_log(f"FAILED to force {output.name} = {value} on {where}: {error}")
            else:
                self.commission.show_message(f"{output.name} forced to {value} on {where}")
                self.commission.add_log(f"forced {output.name} = {value} on {where}")
        self.control.force(output, value, link, done=done)

    def _test(self, decision: str) -> None:
        def done(result, error) -> None:
            if error:
                self.commission.show_message(f"Test {decision} not sent: {error}", error=True)
                self.commission.add_log(f"FAILED to send test {decision}: {error}")
                return
            seq = getattr(result, "seq", None)
            said = f"test {decision} sent" + (f" (seq {seq}, sent as {result.decision})" if seq is not None else "")
            self.commission.show_message(said[0].upper() + said[1:])
            self.commission.add_log(said)
        self.control.send_test(decision, done=done)
