"""The "Audit trail…" dialog: the newest entries matching the filters (at most
:data:`PAGE`), the chain's verification and the CSV export. Reads and writes run in a
background thread; the table fills when the answer comes (the GUI never waits on sqlite)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout)

from app.audit.filters import AuditFilters
from app.workers.background import Background
from core.audit import AuditEntry, export_csv, query, verify
from core.store import paths

_log = logging.getLogger(__name__)
PAGE = 500  # entries shown at most (the newest); the CSV export has them all
COLUMNS = ("Time", "User", "Role", "Action", "Target", "Old → New", "Reason")
BAD = QColor("#f6c7c5")


def _local(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def change_text(e: AuditEntry, limit: int = 120) -> str:
    text = f"{e.old_value or '—'} → {e.new_value or '—'}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AuditDialog(QDialog):
    def __init__(self, data_dir, parent=None) -> None:
        super().__init__(parent)
        self.db_path = paths.results_db_path(paths.data_dir(data_dir))
        self.setWindowTitle("Audit trail")
        self._work = Background("audit-query", self)
        self.entries: list[AuditEntry] = []
        self.report = None  # the last VerifyReport
        col = QVBoxLayout(self)
        self.filters = AuditFilters()
        col.addWidget(self.filters)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        col.addWidget(self.table, 1)
        self.message = QLabel("", wordWrap=True)
        col.addWidget(self.message)
        row = QHBoxLayout()
        self.count_label = QLabel("")
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.setToolTip("Check every entry's hash link (finds edited, deleted or "
                                      "reordered entries)")
        self.verify_label = QLabel("", objectName="verifyText", wordWrap=True)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Write every entry matching the filters (with the hashes) "
                                      "to a CSV file")
        close = QPushButton("Close")
        row.addWidget(self.count_label)
        row.addWidget(self.verify_button)
        row.addWidget(self.verify_label, 1)
        row.addWidget(self.export_button)
        row.addWidget(close)
        col.addLayout(row)
        self.filters.applyRequested.connect(self.refresh)
        self.verify_button.clicked.connect(self.verify_chain)
        self.export_button.clicked.connect(self.ask_export)
        close.clicked.connect(self.close)
        self.resize(1200, 640)
        self.refresh()

    @property
    def busy(self) -> bool:
        return self._work.busy

    def _say(self, text: str, bad: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c5221f; font-weight: bold;" if bad else "")

    # --- entries ------------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            f = self.filters.filters()
        except ValueError as exc:
            self._say(str(exc), bad=True)
            return
        self._say("Reading…")
        self._work.submit(lambda: query(self.db_path, limit=PAGE, newest_first=True, **f),
                          done=self._show_entries)

    def _show_entries(self, entries, error: str | None) -> None:
        if error is not None:
            self._say(f"Cannot read the audit trail: {error}", bad=True)
            return
        self._say("")
        self.entries = entries
        self.table.setRowCount(len(entries))
        for r, e in enumerate(entries):
            cells = (_local(e.time), e.user, e.role, e.action, e.target or "", change_text(e),
                     e.reason or "")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"entry {e.id}\n{e.old_value or '—'} → {e.new_value or '—'}"
                                if c == 5 else text)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        for c, most in ((4, 180), (5, 360)):
            self.table.setColumnWidth(c, min(self.table.columnWidth(c), most))
        more = f" (the newest {PAGE}; narrow the filters or export for all)" if len(entries) >= PAGE else ""
        self.count_label.setText(f"{len(entries)} entries{more}")
        self._mark_bad()

    # --- verification -----------------------------------------------------------------------
    def verify_chain(self) -> None:
        self.verify_label.setText("Verifying…")
        self.verify_label.setStyleSheet("")
        self._work.submit(verify, self.db_path, done=self._show_verify)

    def _show_verify(self, report, error: str | None) -> None:
        self.report = report
        if error is not None:
            self.verify_label.setText(f"Cannot verify: {error}")
            self.verify_label.setStyleSheet("color: #c5221f; font-weight: bold;")
            return
        self.verify_label.setText(report.message)
        colour = "#1e8e3e" if report.ok else "#c5221f"
        self.verify_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self._mark_bad()

    def _mark_bad(self) -> None:
        """Paint the first bad entry red when it is in the table, and show it."""
        bad = None if self.report is None or self.report.ok else self.report.bad_id
        for r, e in enumerate(self.entries):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                if item is not None:
                    item.setBackground(BAD if e.id == bad else QColor(0, 0, 0, 0))
            if e.id == bad:
                self.table.scrollToItem(self.table.item(r, 0))

    # --- export -----------------------------------------------------------------------------
    def ask_export(self) -> None:
        out, _ = QFileDialog.getSaveFileName(self, "Export the audit trail", "audit.csv", "CSV files (*.csv)")
        if out:
            self.export_to(out)

    def export_to(self, out: str | Path) -> None:
        try:
            f = self.filters.filters()
        except ValueError as exc:
            self._say(str(exc), bad=True)
            return
        self._say(f"Exporting to {out}…")
        self._work.submit(lambda: export_csv(self.db_path, out, **f), done=lambda n, err: self._say(
            f"Export failed: {err}", bad=True) if err else self._say(f"{n} entries written to {out}"))

    def shutdown(self) -> None:
        """The window closes: finish what runs (an export), drop what waits."""
        self._work.shutdown(wait=True)
        self.close()


class AuditActions:
    """The window's "Audit trail…": one dialog, opened again where it was left. Viewing it
    needs ``audit_view`` (engineer): ``gate`` (the window's RoleGate) refuses anyone else, also
    when the disabled action is reached another way; the window closes it on sign-out."""

    def __init__(self, window, controller, gate=None) -> None:
        self.window, self.controller, self.gate = window, controller, gate
        self.dialog: AuditDialog | None = None

    def open_dialog(self) -> AuditDialog | None:
        if self.gate is not None and not self.gate.check("audit_view"):
            return None  # refused: said in the window's message line by the gate
        if self.dialog is None:
            self.dialog = AuditDialog(self.controller.data_dir, self.window)
        else:
            self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.shutdown()
