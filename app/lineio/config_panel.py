"""Configuration: the mapping and the transports, Save (judged first: a value that cannot be
used is named in the message line and nothing is written) and Apply (save, then the line
interface restarts with it in the background; inspection goes on)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from app.lineio.config_form import form_of
from app.lineio.mapping_form import MappingForm
from app.lineio.transports_editor import TransportsEditor


class ConfigPanel(QGroupBox):
    saveRequested = Signal(object, bool)  # (form, restart)

    def __init__(self, path_text: str = "", parent=None) -> None:
        super().__init__("Configuration", parent)
        self.mapping = MappingForm()
        self.transports = TransportsEditor()
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip(f"Check and write {path_text or 'line_io.toml'} (takes effect on Apply "
                                    "or the next start)")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Save, then restart the line interface with it (inspection goes on)")
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Show the configuration in force again")
        self.message = QLabel("", wordWrap=True)
        self.path = QLabel(path_text, wordWrap=True)
        self.path.setStyleSheet("color: #5f6368;")
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.revert_button)
        buttons.addStretch(1)
        col = QVBoxLayout(self)
        col.addWidget(self.mapping)
        col.addWidget(self.transports, 1)
        col.addLayout(buttons)
        col.addWidget(self.message)
        col.addWidget(self.path)
        self.save_button.clicked.connect(lambda: self.request(False))
        self.apply_button.clicked.connect(lambda: self.request(True))

    def set_config(self, config) -> None:
        form = form_of(config)
        self.mapping.set_values(form["mapping"])
        self.transports.set_transports(form["transports"])

    def form(self) -> dict:
        """What is on the page; ValueError for an option without a name."""
        return {"mapping": self.mapping.values(), "transports": self.transports.values()}

    def request(self, restart: bool) -> None:
        try:
            form = self.form()
        except ValueError as exc:
            self.show_message(str(exc), error=True)
            return
        self.set_working(True)
        self.show_message("Saving and restarting the line interface…" if restart else "Saving…")
        self.saveRequested.emit(form, restart)

    def set_working(self, working: bool) -> None:
        for b in (self.save_button, self.apply_button, self.revert_button):
            b.setEnabled(not working)

    def saved(self, message: str, restart: bool) -> None:
        """The outcome: "" when saved (and restarted), else why not."""
        self.set_working(False)
        self.mapping.mark_invalid(message)
        if message:
            self.show_message(message, error=True)
        else:
            self.show_message("Saved; the line interface restarted with it" if restart
                              else "Saved (Apply puts it in force)")

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c5221f; font-weight: bold;" if error else "color: #1e8e3e;")
        self.message.setText(text)
