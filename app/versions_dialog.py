"""The model versions of one recipe, with an Activate button (rollback = an earlier version).

Presentation only: the rows come from :func:`app.version_rows.version_rows`, and
*Activate* emits ``activateRequested(recipe, version)``; the window hands that to the session
controller, which loads the model off the GUI thread and calls :meth:`refresh` when done.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout,
                               QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout)

from app.version_rows import VersionRow

COLUMNS = ("", "Version · model", "Deployed", "Trained from", "Validation", "Limits", "Deployed by")
TRAINED_FROM = COLUMNS.index("Trained from")


class VersionsDialog(QDialog):
    activateRequested = Signal(str, int)

    def __init__(self, recipe: str, rows_of: Callable[[str], tuple[list[VersionRow], list[str]]], parent=None) -> None:
        super().__init__(parent)
        self.recipe, self._rows_of = recipe, rows_of
        self.rows: list[VersionRow] = []
        self.setWindowTitle(f"Model versions: {recipe}")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long paths: both ends stay
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TRAINED_FROM, QHeaderView.ResizeMode.Stretch)
        self.activate_button = QPushButton("Activate")
        self.activate_button.setToolTip("Inspect with the selected version from now on (its "
                                        "calibrated limits are put in force); the live view "
                                        "switches without stopping")
        self.refresh_button = QPushButton("Refresh")
        self.message = QLabel("", wordWrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.activate_button)
        row.addWidget(self.refresh_button)
        row.addWidget(self.message, 1)
        row.addWidget(buttons)
        col = QVBoxLayout(self)
        col.addWidget(QLabel(f"Recipe <b>{recipe}</b>: every model version deployed, newest first. "
                             "Activating an earlier one rolls back to it."))
        col.addWidget(self.table, 1)
        col.addLayout(row)
        self.activate_button.clicked.connect(self.activate_selected)
        self.refresh_button.clicked.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.resize(1280, 280)
        self.refresh()

    def refresh(self) -> None:
        """Read the versions again (after an activation, a deploy, or on request)."""
        try:
            self.rows, problems = self._rows_of(self.recipe)
        except Exception as exc:  # a broken recipe: say why, keep the dialog usable
            self.rows = []
            self.show_message(str(exc), error=True)
        else:
            active = [v.version for v in self.rows if v.active]
            said = f"v{active[0]} is active" if active else "no version is active"
            if problems:  # the readable versions are listed; say which could not be read
                self.show_message("; ".join([said, *problems]), error=True)
            else:
                self.show_message(said)
        self.table.setRowCount(len(self.rows))
        for r, v in enumerate(self.rows):
            cells = ("● active" if v.active else ("deleted" if v.deleted else ""),
                     " · ".join(p for p in (f"v{v.version}", v.model) if p)
                     + (f" ({v.preset})" if v.preset else ""), v.deployed,
                     v.trained_from, v.validation, v.limits, v.deployed_by)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if v.active:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                if v.deleted:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(r, c, item)
        active = next((r for r, v in enumerate(self.rows) if v.active), None)
        if active is not None:
            self.table.selectRow(active)
        self._selection_changed()

    def selected(self) -> VersionRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def select_version(self, version: int) -> None:
        for r, v in enumerate(self.rows):
            if v.version == version:
                self.table.selectRow(r)

    def activate_selected(self) -> None:
        v = self.selected()
        if v is None or not v.can_activate:
            return
        self.activate_button.setEnabled(False)
        self.show_message(f"Activating v{v.version}…")
        self.activateRequested.emit(self.recipe, v.version)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c5221f; font-weight: bold;" if error else "")
        self.message.setText(text)

    def _selection_changed(self) -> None:
        v = self.selected()
        self.activate_button.setEnabled(v is not None and v.can_activate)
