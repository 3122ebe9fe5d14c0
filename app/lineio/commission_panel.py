"""Commissioning: drive one output by hand (on one link or all; the first time only after a
confirmation, since the line may act on it), send a fake OK or NG result through every link,
and the log of what was forced and sent from here."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QMessageBox, QPushButton, QVBoxLayout)

from app.lineio.values import parse_force_value
from core.lineio.contract import LineOutput

ALL_LINKS = "All links"
CONFIRM_TEXT = ("Forcing drives a real output on the line: a reject gate, a diverter or a stack "
                "light may move. Make sure nobody is at the machine and the line is in a safe "
                "state. Every forced value is logged with your name.\n\nForce outputs from now on?")


class CommissionPanel(QGroupBox):
    forceRequested = Signal(object, object, object)  # (LineOutput, value, link name or None)
    testRequested = Signal(str)  # "OK" | "NG"

    def __init__(self, parent=None) -> None:
        super().__init__("Commissioning", parent)
        self.confirmed = False
        self.confirm = self._ask  # replaced in tests: () -> bool
        self.output = QComboBox()
        for o in LineOutput:
            self.output.addItem(o.name, o.value)  # Qt keeps a str enum as a plain str
        self.value = QLineEdit("1")
        self.value.setToolTip("on / off (1 / 0); a whole number for SEQ and HEARTBEAT, a number for SCORE")
        self.value.setMaximumWidth(110)
        self.link = QComboBox()
        self.link.addItem(ALL_LINKS)
        self.link.setMinimumContentsLength(18)
        self.force_button = QPushButton("Force")
        self.force_button.setToolTip("Drive the chosen output by hand (logged)")
        self.test_ok = QPushButton("Send test OK")
        self.test_ng = QPushButton("Send test NG")
        for b, d in ((self.test_ok, "OK"), (self.test_ng, "NG")):
            b.setToolTip(f"Send a fake {d} result (marked as a test) through every link")
            b.clicked.connect(lambda _=False, d=d: self.request_test(d))
        self.message = QLabel("", wordWrap=True)
        self.log = QListWidget()
        self.log.setToolTip("What was forced and sent from this page (also in the log file)")
        row = QHBoxLayout()
        for w in (QLabel("Output"), self.output, QLabel("Value"), self.value, QLabel("on"), self.link,
                  self.force_button):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.test_ok)
        row.addWidget(self.test_ng)
        col = QVBoxLayout(self)
        col.addLayout(row)
        col.addWidget(self.message)
        col.addWidget(self.log, 1)
        self.force_button.clicked.connect(self.request_force)
        self.value.returnPressed.connect(self.request_force)

    def set_links(self, names: list[str]) -> None:
        current = self.link.currentText()
        wanted = [ALL_LINKS, *names]
        if [self.link.itemText(i) for i in range(self.link.count())] != wanted:
            self.link.clear()
            self.link.addItems(wanted)
            self.link.setCurrentText(current if current in wanted else ALL_LINKS)

    def set_live(self, live: bool) -> None:
        """Buttons work only while a line interface runs."""
        for b in (self.force_button, self.test_ok, self.test_ng):
            b.setEnabled(live)

    def request_force(self) -> None:
        output = LineOutput(self.output.currentData())
        try:
            value = parse_force_value(output, self.value.text())
        except ValueError as exc:
            self.show_message(str(exc), error=True)
            return
        if not self.confirmed:
            if not self.confirm():
                self.show_message("Nothing forced")
                return
            self.confirmed = True
        link = None if self.link.currentText() == ALL_LINKS else self.link.currentText()
        self.show_message(f"Forcing {output.name} = {value}…")
        self.forceRequested.emit(output, value, link)

    def request_test(self, decision: str) -> None:
        self.show_message(f"Sending a test {decision}…")
        self.testRequested.emit(decision)

    def add_log(self, text: str) -> None:
        self.log.insertItem(0, f"{time.strftime('%H:%M:%S')}  {text}")
        while self.log.count() > 200:
            self.log.takeItem(self.log.count() - 1)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c5221f; font-weight: bold;" if error else "")
        self.message.setText(text)

    def _ask(self) -> bool:
        answer = QMessageBox.question(self, "Force outputs", CONFIRM_TEXT,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
