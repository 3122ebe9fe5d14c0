"""Administrators: the station's accounts (add, change role, reset password, remove).

Every change goes through :class:`~core.auth.UserStore` as the signed-in administrator (it
writes the audit entry itself), in the gate's worker thread (scrypt for a new password); the
list is read again when a change is done. Mistakes (a bad name, a short password, removing the
last administrator) are said in the dialog.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout)

from app.auth.gate import RoleGate
from core.auth import LOGIN_ROLES, Actor, AuthError, check_name, check_secret

COLUMNS = ("Name", "Role", "Signs in with", "Failed tries")


class UsersDialog(QDialog):
    def __init__(self, gate: RoleGate, parent=None) -> None:
        super().__init__(parent)
        self.gate = gate
        self.setWindowTitle("Users")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.name = QLineEdit()
        self.role = QComboBox()
        self.role.addItems([r.label for r in LOGIN_ROLES])
        self.secret = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.again = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Role", self.role)
        form.addRow("Password or PIN", self.secret)
        form.addRow("Again", self.again)
        self.add_button = QPushButton("Add user")
        self.role_button = QPushButton("Set role of selected")
        self.reset_button = QPushButton("Reset password of selected")
        self.remove_button = QPushButton("Remove selected")
        self.message = QLabel("", wordWrap=True)
        row = QHBoxLayout()
        for b in (self.add_button, self.role_button, self.reset_button, self.remove_button):
            row.addWidget(b)
        col = QVBoxLayout(self)
        col.addWidget(self.table, 1)
        col.addLayout(form)
        col.addLayout(row)
        col.addWidget(self.message)
        self.add_button.clicked.connect(self.add)
        self.role_button.clicked.connect(lambda: self._on_selected(self._set_role))
        self.reset_button.clicked.connect(lambda: self._on_selected(self._reset))
        self.remove_button.clicked.connect(lambda: self._on_selected(self._remove))
        self.table.itemSelectionChanged.connect(self._fill_from_selection)
        self.resize(640, 460)
        self.refresh()

    def refresh(self) -> None:
        try:
            users = self.gate.users.list()
        except AuthError as exc:
            users = []
            self.show_message(str(exc), error=True)
        self.table.setRowCount(len(users))
        for r, u in enumerate(users):
            for c, text in enumerate((u.name, u.role.label, u.kind, str(u.failures))):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).text() if rows else None

    def _fill_from_selection(self) -> None:
        name = self.selected()
        if name:
            self.name.setText(name)

    def _actor(self) -> Actor | None:
        user = self.gate.session.user
        if user is None or not self.gate.check("user_admin"):
            self.show_message("Signed out: sign in as an administrator again", error=True)
            return None
        return Actor(user.name, user.role.label)

    def _new_secret(self) -> str | None:
        try:
            secret = check_secret(self.secret.text())
        except AuthError as exc:
            self.show_message(str(exc), error=True)
            return None
        if self.again.text() != secret:
            self.show_message("The two passwords differ: type the same one twice", error=True)
            return None
        return secret

    def add(self) -> None:
        try:
            name = check_name(self.name.text())
        except AuthError as exc:
            self.show_message(str(exc), error=True)
            return
        secret = self._new_secret()
        by = self._actor() if secret is not None else None
        if by is not None:
            self._run(f"Adding {name}…", self.gate.users.add, name, self.role.currentText(),
                      secret, by=by)

    def _on_selected(self, fn) -> None:
        name = self.selected()
        if name is None:
            self.show_message("Select a user in the list first", error=True)
            return
        fn(name)

    def _set_role(self, name: str) -> None:
        by = self._actor()
        if by is not None:
            self._run(f"Changing {name}'s role…", self.gate.users.set_role, name,
                      self.role.currentText(), by=by)

    def _reset(self, name: str) -> None:
        secret = self._new_secret()
        by = self._actor() if secret is not None else None
        if by is not None:
            self._run(f"Resetting {name}'s password…", self.gate.users.reset_password, name,
                      secret, by=by)

    def _remove(self, name: str) -> None:
        by = self._actor()
        if by is not None:
            self._run(f"Removing {name}…", self.gate.users.remove, name, by=by)

    def _run(self, what: str, fn, *args, by: Actor) -> None:
        self.show_message(what)

        def done(_result, error) -> None:
            self.secret.clear()
            self.again.clear()
            self.show_message(error or what.replace("…", ": done"), error=error is not None)
            self.refresh()

        self.gate.worker.submit(lambda: fn(*args, by=by), done=done)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c5221f; font-weight: bold;" if error else "")
        self.message.setText(text)
