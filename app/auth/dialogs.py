"""Sign-in, first-start administrator and reason dialogs.

None of them blocks: each is opened with ``open()`` (window-modal, the event loop and so the
live view keep running) and reports through a signal. Sign-in and account creation run
scrypt in the gate's worker thread; the dialog shows "Signing in…" meanwhile. Everything typed
is checked here with a one-line message in the dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QVBoxLayout)

from app.auth.gate import RoleGate
from core.audit.entry import MAX_TEXT
from core.auth import AuthError, check_name, check_secret

CLI_HINT = ("To create it later, run on this machine:  lineinspect users add-admin  "
            "(see docs/station-admin.md)")


class _Form(QDialog):
    """A form with a message line and OK / Cancel; subclasses fill the form and ``submit``."""

    def __init__(self, title: str, ok_text: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.message = QLabel("", wordWrap=True, objectName="dialogMessage")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.col = QVBoxLayout(self)
        self.col.addLayout(self.form)
        self.col.addWidget(self.message)
        self.col.addWidget(self.buttons)

    def submit(self) -> None:
        raise NotImplementedError

    def show_message(self, text: str, error: bool = True) -> None:
        self.message.setStyleSheet("color: #c5221f; font-weight: bold;" if error else "")
        self.message.setText(text)

    def _busy(self, text: str) -> None:
        self.ok_button.setEnabled(False)
        self.show_message(text, error=False)

    def _finished(self, user, error: str | None, signal) -> bool:
        """The worker's outcome: the error said (False), or ``signal(name)`` and closed."""
        self.ok_button.setEnabled(True)
        if error is not None:
            self.show_message(error)
            return False
        signal.emit(user.name)
        self.accept()
        return True


def _secret_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class SignInDialog(_Form):
    """Name and password / PIN of an engineer or administrator."""

    signedIn = Signal(str)  # the user's name

    def __init__(self, gate: RoleGate, why: str = "", parent=None) -> None:
        super().__init__("Sign in", "Sign in", parent)
        self.gate = gate
        if why:
            self.col.insertWidget(0, QLabel(why, wordWrap=True))
        self.name = QLineEdit()
        self.secret = _secret_field()
        self.form.addRow("Name", self.name)
        self.form.addRow("Password or PIN", self.secret)
        self.secret.returnPressed.connect(self.submit)

    def submit(self) -> None:
        name, secret = self.name.text().strip(), self.secret.text()
        if not name or not secret:
            self.show_message("Type your name and your password or PIN")
            return
        self._busy("Signing in…")
        self.gate.sign_in(name, secret, self._done)

    def _done(self, user, error: str | None) -> None:
        if not self._finished(user, error, self.signedIn):
            self.secret.clear()


class FirstAdminDialog(_Form):
    """First start: no administrator yet. Create one here, or skip (the CLI way is said)."""

    created = Signal(str)

    def __init__(self, gate: RoleGate, parent=None) -> None:
        super().__init__("Create the administrator", "Create administrator", parent)
        self.gate = gate
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Skip")
        self.intro = QLabel(
            "This station has no administrator yet. The administrator adds engineers and may do "
            "everything an engineer does. Until one exists nobody can sign in: the station runs "
            f"in operator mode.\n\n{CLI_HINT}", wordWrap=True)
        self.col.insertWidget(0, self.intro)
        self.name = QLineEdit("admin")
        self.secret = _secret_field()
        self.again = _secret_field()
        self.form.addRow("Name", self.name)
        self.form.addRow("Password or PIN", self.secret)
        self.form.addRow("Again", self.again)
        self.again.returnPressed.connect(self.submit)

    def submit(self) -> None:
        try:
            name = check_name(self.name.text())
            secret = check_secret(self.secret.text())
        except AuthError as exc:
            self.show_message(str(exc))
            return
        if self.again.text() != secret:
            self.show_message("The two passwords differ: type the same one twice")
            self.again.clear()
            return
        self._busy("Creating the administrator…")
        self.gate.worker.submit(self.gate.users.create_first_admin, name, secret, done=self._done)

    def _done(self, user, error: str | None) -> None:
        self._finished(user, error, self.created)


class ReasonDialog(_Form):
    """Why a change is made (threshold Apply): required, kept in the audit trail."""

    given = Signal(str)

    def __init__(self, title: str, what: str, parent=None) -> None:
        super().__init__(title, "OK", parent)
        self.col.insertWidget(0, QLabel(what, wordWrap=True))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. new batch of caps is darker; checked on 20 parts")
        self.reason.setMaxLength(MAX_TEXT["reason"])
        self.reason.setMinimumWidth(420)
        self.form.addRow("Reason", self.reason)
        self.reason.returnPressed.connect(self.submit)

    def submit(self) -> None:
        text = self.reason.text().strip()
        if not text:
            self.show_message("A reason is required: say why (it is kept in the audit trail)")
            return
        self.given.emit(text)
        self.accept()
