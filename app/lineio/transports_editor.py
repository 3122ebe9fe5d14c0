"""The station's transports: a checkable list (checked = enabled) and, for the selected one,
its kind and its options as a key / value table (a new transport starts from its kind's usual
options at their defaults)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QListWidget, QListWidgetItem, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from app.lineio.values import format_option, parse_option
from core.lineio.registry import KINDS

# each kind's usual options at their documented defaults; required ones left empty to fill in
STARTER_OPTIONS: dict[str, dict] = {
    "modbus-server": {"host": "0.0.0.0", "port": 5020},
    "modbus-client": {"host": "", "port": 502},
    "opcua": {"host": "0.0.0.0", "port": 4840},
    "mqtt": {"host": "", "port": 1883, "prefix": "lineinspector"},
    "genicam": {"ng_line": "Line1", "pulse_ms": 100, "delay_ms": 0},
    "s7": {"host": "0.0.0.0", "port": 102, "db": 10},
}


def kind_defaults(kind: str) -> dict:
    """The options a new transport of ``kind`` starts with (the engineer edits them; the
    transport's own build() judges them on Save)."""
    return dict(STARTER_OPTIONS.get(kind, {}))


def summary(t: dict) -> str:
    opts = ", ".join(f"{k}={format_option(v)}" for k, v in t.get("options", {}).items())
    return f"{t['kind']}  {opts}" if opts else t["kind"]


class TransportsEditor(QGroupBox):
    def __init__(self, parent=None) -> None:
        super().__init__("Transports (checked = enabled)", parent)
        self.transports: list[dict] = []  # {"kind", "enabled", "options"}
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # long option lists are cut with an ellipsis (whole text in the tooltip), never scrolled
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.add_kind = QComboBox()
        self.add_kind.addItems(list(KINDS))
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add a transport of the kind chosen beside it")
        self.remove_button = QPushButton("Remove")
        self.kind = QComboBox()
        self.kind.addItems(list(KINDS))
        self.options = QTableWidget(0, 2)
        self.options.setHorizontalHeaderLabels(("Option", "Value"))
        self.options.verticalHeader().setVisible(False)
        self.options.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.options.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.options.setToolTip("Values as in line_io.toml: 5020, 0.5, true, a word or \"text\"")
        self.add_option = QPushButton("+ option")
        self.remove_option = QPushButton("− option")

        adds = QHBoxLayout()
        adds.addWidget(self.add_kind, 1)
        adds.addWidget(self.add_button)
        adds.addWidget(self.remove_button)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addLayout(adds)
        kind_row = QHBoxLayout()
        kind_row.addWidget(QLabel("Kind"))
        kind_row.addWidget(self.kind, 1)
        opt_buttons = QHBoxLayout()
        opt_buttons.addWidget(self.add_option)
        opt_buttons.addWidget(self.remove_option)
        opt_buttons.addStretch(1)
        right = QVBoxLayout()
        right.addLayout(kind_row)
        right.addWidget(self.options, 1)
        right.addLayout(opt_buttons)
        row = QHBoxLayout(self)
        row.addLayout(left, 3)
        row.addLayout(right, 2)

        self.add_button.clicked.connect(lambda: self.add(self.add_kind.currentText()))
        self.remove_button.clicked.connect(self.remove_selected)
        self.list.currentRowChanged.connect(self._show_selected)
        self.list.itemChanged.connect(self._enabled_changed)
        self.kind.currentTextChanged.connect(self._kind_changed)
        self.add_option.clicked.connect(self._add_option_row)
        self.remove_option.clicked.connect(self._remove_option_row)
        self.options.itemChanged.connect(self._options_changed)
        self._show_selected(-1)

    # --- the list -----------------------------------------------------------------------------
    def set_transports(self, transports: list[dict]) -> None:
        self.transports = [{"kind": t["kind"], "enabled": bool(t.get("enabled", True)),
                            "options": dict(t.get("options", {}))} for t in transports]
        self._fill_list(0 if self.transports else -1)

    def add(self, kind: str, options: dict | None = None) -> None:
        opts = kind_defaults(kind) if options is None else dict(options)
        self.transports.append({"kind": kind, "enabled": True, "options": opts})
        self._fill_list(len(self.transports) - 1)

    def remove_selected(self) -> None:
        r = self.list.currentRow()
        if 0 <= r < len(self.transports):
            del self.transports[r]
            self._fill_list(min(r, len(self.transports) - 1))

    def values(self) -> list[dict]:
        """The transports as edited; a bad option (an empty name) raises ValueError."""
        self._read_options()
        return [dict(t, options=dict(t["options"])) for t in self.transports]

    def _fill_list(self, select: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for i, t in enumerate(self.transports, start=1):
            item = QListWidgetItem(f"{i}. {summary(t)}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if t["enabled"] else Qt.CheckState.Unchecked)
            item.setToolTip(summary(t))
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.list.setCurrentRow(select)
        self._show_selected(select)

    def _enabled_changed(self, item: QListWidgetItem) -> None:
        r = self.list.row(item)
        if 0 <= r < len(self.transports):
            self.transports[r]["enabled"] = item.checkState() == Qt.CheckState.Checked

    # --- the selected transport ---------------------------------------------------------------
    def _current(self) -> dict | None:
        r = self.list.currentRow()
        return self.transports[r] if 0 <= r < len(self.transports) else None

    def _show_selected(self, _row: int) -> None:
        t = self._current()
        for w in (self.kind, self.options, self.add_option, self.remove_option, self.remove_button):
            w.setEnabled(t is not None)
        self.kind.blockSignals(True)
        self.kind.setCurrentText(t["kind"] if t else "")
        self.kind.blockSignals(False)
        self.options.blockSignals(True)
        opts = t["options"] if t else {}
        self.options.setRowCount(len(opts))
        for r, (k, v) in enumerate(opts.items()):
            self.options.setItem(r, 0, QTableWidgetItem(str(k)))
            self.options.setItem(r, 1, QTableWidgetItem(format_option(v)))
        self.options.blockSignals(False)

    def _kind_changed(self, kind: str) -> None:
        t = self._current()
        if t is not None and kind and kind != t["kind"]:
            t["kind"], t["options"] = kind, kind_defaults(kind)
            self._fill_list(self.list.currentRow())

    def _add_option_row(self) -> None:
        r = self.options.rowCount()
        self.options.insertRow(r)
        self.options.setItem(r, 0, QTableWidgetItem(""))
        self.options.setItem(r, 1, QTableWidgetItem(""))
        self.options.editItem(self.options.item(r, 0))

    def _remove_option_row(self) -> None:
        r = self.options.currentRow()
        if r >= 0:
            self.options.removeRow(r)
            self._options_changed()

    def _options_changed(self, *_args) -> None:
        try:
            self._read_options()
        except ValueError:  # an option being typed: judged on Save
            return
        r = self.list.currentRow()
        item = self.list.item(r)
        if item is not None:
            item.setText(f"{r + 1}. {summary(self.transports[r])}")

    def _read_options(self) -> None:
        t = self._current()
        if t is None:
            return
        opts: dict = {}
        for r in range(self.options.rowCount()):
            key = (self.options.item(r, 0).text() if self.options.item(r, 0) else "").strip()
            text = self.options.item(r, 1).text() if self.options.item(r, 1) else ""
            if not key and not text.strip():
                continue  # an empty row: ignored
            if not key:
                raise ValueError(f"transport {self.list.currentRow() + 1}: an option has a value but no name")
            opts[key] = parse_option(key, text)
        t["options"] = opts
