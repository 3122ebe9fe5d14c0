"""The "Lot…" dialog: the operator types the current lot number; it is checked with
core.shifts' rules and a wrong one is said in the dialog, which stays open. Window-modal
via ``open()`` (never ``exec()``): the window keeps painting, inspection never waits."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout

from core.shifts.counters import MAX_LOT, check_lot


class LotDialog(QDialog):
    def __init__(self, context, parent=None) -> None:
        """``context``: the station's ShiftContext, whose lot is set on OK."""
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Lot")
        col = QVBoxLayout(self)
        col.addWidget(QLabel(f"Lot number of the parts from now on (1-{MAX_LOT} characters; "
                             "empty: no lot):", wordWrap=True))
        self.edit = QLineEdit(context.lot or "")
        self.edit.setMaxLength(MAX_LOT + 16)  # longer than allowed: said, not cut silently
        self.edit.textEdited.connect(lambda _t: self.error_label.setVisible(False))
        col.addWidget(self.edit)
        self.error_label = QLabel("", objectName="faultText", wordWrap=True)
        self.error_label.setVisible(False)
        col.addWidget(self.error_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)
        self.resize(380, self.sizeHint().height())

    def accept(self) -> None:
        try:
            check_lot(self.edit.text())
        except ValueError as exc:
            self.error_label.setText(str(exc))
            self.error_label.setVisible(True)
            return
        self.context.set_lot(self.edit.text())
        super().accept()


def open_lot_dialog(parent, context) -> LotDialog:
    dialog = LotDialog(context, parent)
    dialog.open()
    return dialog
