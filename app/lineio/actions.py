"""The window's side of line I/O: *Line I/O…* opens the page (one, non-modal), the status
bar's link indicator is polled on a timer, and the line's orders carried out by the session
controller show in the window (a recipe the line selected in the recipe selector, ACK_ALARM
clears the fault message, each order in the status bar)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from app.lineio.dialog import LineIoDialog
from app.lineio.indicator import indicator_view
from app.widgets.present import discard, present

INDICATOR_MS = 500


class LineIoActions(QObject):
    def __init__(self, window, controller) -> None:
        super().__init__(window)
        self.window, self.controller = window, controller
        self.dialog: LineIoDialog | None = None
        # on_force(dialog, output, value, link): the window's role gate records a forced output
        # before the page drives it (None: the page forces directly)
        self.on_force = None
        # on_save(dialog, form, restart): the role gate records a changed configuration first
        self.on_save = None
        # START from the line starts what the recipe selector shows
        controller.selected_recipe = lambda: window.toolbar.recipe_combo.currentText() or window.recipe_name
        controller.recipeSelected.connect(self._on_selected)
        controller.alarmAcknowledged.connect(lambda: window.error_label.setVisible(False))
        controller.lineCommand.connect(self._on_command)
        self.timer = QTimer(self)
        self.timer.setInterval(INDICATOR_MS)
        self.timer.timeout.connect(self.refresh_indicator)
        self.timer.start()

    def refresh_indicator(self) -> None:
        line = self.controller.line
        self.window.status.show_line(indicator_view(line.statuses(), line.alarm(), line.error))

    def open_dialog(self) -> LineIoDialog:
        if self.dialog is None:
            self.dialog = LineIoDialog(self.controller.line, parent=self.window)
            self.dialog.finished.connect(self._closed)
            if self.on_force is not None:
                d = self.dialog
                d.commission.forceRequested.disconnect(d._force)
                d.commission.forceRequested.connect(lambda o, v, link: self.on_force(d, o, v, link))
            if self.on_save is not None:
                d = self.dialog
                d.config.saveRequested.disconnect(d._save)
                d.config.saveRequested.connect(lambda form, restart: self.on_save(d, form, restart))
        return present(self.dialog)

    def _closed(self) -> None:
        dialog, self.dialog = self.dialog, None
        discard(dialog)

    def _on_selected(self, name: str) -> None:
        self.window.recipe_name = name
        self.window.refresh_recipes()

    def _on_command(self, _cmd, said: str) -> None:
        self.window.status.notify(f"Line: {said}", 8000)

    def close(self) -> None:
        self.timer.stop()
        if self.dialog is not None:
            self.dialog.close()
