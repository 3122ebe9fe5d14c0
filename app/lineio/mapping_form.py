"""The station's mapping: what REVIEW is sent as, the deadline, the fail-safe and the
heartbeat period. Numbers are typed as text and judged by the line configuration itself, so
the page and line_io.toml refuse the same values with the same message."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLineEdit

REVIEW_AS = (("ng", "NG (reject it)"), ("ok", "OK (pass it)"), ("review", "its own REVIEW output"))
FAIL_SAFE = (("reject", "reject: send NG"), ("error", "error: send ERROR"))
NUMBER_FIELDS = ("deadline_ms", "heartbeat_ms")
INVALID_QSS = "QLineEdit { border: 2px solid #c5221f; }"


def number_or_text(text: str) -> int | str:
    """An int when the text is one, else the text itself (the configuration's check names it)."""
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        return t


class MappingForm(QGroupBox):
    def __init__(self, parent=None) -> None:
        super().__init__("Mapping (the station's; a recipe may override it in its [line_io] table)", parent)
        self.review_as = QComboBox()
        for value, text in REVIEW_AS:
            self.review_as.addItem(text, value)
        self.review_as.setToolTip("What the line is told for a part the model judged REVIEW")
        self.fail_safe = QComboBox()
        for value, text in FAIL_SAFE:
            self.fail_safe.addItem(text, value)
        self.fail_safe.setToolTip("What a result that missed the deadline (or could not be "
                                  "made) is sent as; it is never sent as OK")
        self.fields = {name: QLineEdit() for name in NUMBER_FIELDS}
        self.fields["deadline_ms"].setToolTip("Milliseconds from trigger to output; 0 = no deadline, "
                                              "else 1-600000. A later result is never sent as OK")
        self.fields["heartbeat_ms"].setToolTip("Heartbeat period in milliseconds (100-60000)")
        form = QFormLayout(self)
        form.addRow("REVIEW is sent as", self.review_as)
        form.addRow("Deadline (ms)", self.fields["deadline_ms"])
        form.addRow("Fail-safe", self.fail_safe)
        form.addRow("Heartbeat (ms)", self.fields["heartbeat_ms"])

    def set_values(self, mapping: dict) -> None:
        for combo, key in ((self.review_as, "review_as"), (self.fail_safe, "fail_safe")):
            i = combo.findData(mapping.get(key))
            combo.setCurrentIndex(max(0, i))
        for name, edit in self.fields.items():
            edit.setText(str(mapping.get(name, "")))
        self.mark_invalid("")

    def values(self) -> dict:
        return {"review_as": self.review_as.currentData(),
                "deadline_ms": number_or_text(self.fields["deadline_ms"].text()),
                "fail_safe": self.fail_safe.currentData(),
                "heartbeat_ms": number_or_text(self.fields["heartbeat_ms"].text())}

    def mark_invalid(self, message: str) -> None:
        """Outline the field a configuration message names (none when it names none)."""
        for name, edit in self.fields.items():
            edit.setStyleSheet(INVALID_QSS if name in message else "")
