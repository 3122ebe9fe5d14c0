"""The enlarged view of one gallery part: image with its heat map (or without), score, time,
recipe, model version; for an engineer the buttons that mark it.

Not modal (inspection and the live view go on behind it); the image is read in a worker
thread; a mark is stored by the :class:`~app.gallery.marking.Marker` in its own.
"""

from __future__ import annotations

import datetime as _dt
import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QCheckBox, QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout)

from app.gallery.marking import Marker
from app.gallery.thumbs import overlay
from app.widgets.numfmt import decimals_to_tell_apart
from app.widgets.style import VERDICT_COLOURS
from app.wizard.qtutil import message_label, show_message, to_qimage
from app.workers.background import Background
from core.store.marks import KIND_LABELS, Mark
from core.store.records import ResultRecord

VIEW = 480  # pixels, the longest side of the enlarged image


def mark_text(mark: Mark | None) -> str:
    if mark is None:
        return "Not marked"
    when = _dt.datetime.fromtimestamp(mark.time).strftime("%Y-%m-%d %H:%M")
    return f"Marked <b>{KIND_LABELS[mark.kind].lower()}</b> by {html.escape(mark.user)} " \
           f"({html.escape(mark.role)}), {when}"


class PartView(QDialog):
    def __init__(self, record: ResultRecord, archive, marker: Marker, mark: Mark | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.record, self.archive, self.marker, self.mark = record, archive, marker, mark
        self.setWindowTitle(f"{record.verdict} part, {record.recipe}")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.worker = Background("gallery-view", self)
        self._pixmaps: dict[bool, QPixmap] = {}
        self.image = QLabel("loading the image…", alignment=Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(VIEW // 2, VIEW // 2)
        self.heat_box = QCheckBox("Heat map", checked=True)
        self.heat_box.setEnabled(bool(record.heatmap_path))
        self.heat_box.toggled.connect(self._paint)
        self.info = QLabel(self._info_html(), textFormat=Qt.TextFormat.RichText)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mark_label = QLabel(mark_text(mark), wordWrap=True)
        self.buttons = {kind: QPushButton(label) for kind, label in KIND_LABELS.items()}
        self.buttons[None] = QPushButton("Clear mark")
        self.message = message_label()
        close = QPushButton("Close")
        close.clicked.connect(self.close)

        side = QVBoxLayout()
        side.addWidget(self.info)
        side.addWidget(self.heat_box)
        side.addSpacing(8)
        side.addWidget(self.mark_label)
        for kind, button in self.buttons.items():
            button.clicked.connect(lambda _=False, k=kind: self.set_mark(k))
            side.addWidget(button)
        side.addWidget(self.message)
        side.addStretch(1)
        side.addWidget(close)
        row = QHBoxLayout(self)
        row.addWidget(self.image, 1)
        row.addLayout(side)
        # sign-in, sign-out, idle lock: offer the buttons or not
        marker.gate.changed.connect(self.refresh_buttons)
        self.refresh_buttons()
        self._load()

    def _info_html(self) -> str:
        r = self.record
        bg, fg = VERDICT_COLOURS.get(r.verdict, VERDICT_COLOURS[""])
        when = _dt.datetime.fromtimestamp(r.time).strftime("%Y-%m-%d %H:%M:%S")
        d = decimals_to_tell_apart(r.ok_limit, r.ng_limit, minimum=3)
        rows = [("Score", f"{r.score:.4f}"), ("Time", when), ("Recipe", html.escape(r.recipe)),
                ("Model", "—" if r.model_version is None else f"v{r.model_version}"),
                ("Limits", f"OK &lt; {r.ok_limit:.{d}f}, NG ≥ {r.ng_limit:.{d}f}")]
        rows += [(k.capitalize(), html.escape(v)) for k, v in (("shift", r.shift), ("lot", r.lot)) if v]
        cells = "".join(f"<tr><td>{k}&nbsp;&nbsp;</td><td><b>{v}</b></td></tr>" for k, v in rows)
        return (f"<div style='background:{bg}; color:{fg}; font-size:20pt; font-weight:bold; "
                f"padding:4px'>&nbsp;{r.verdict}&nbsp;</div><table>{cells}</table>")

    def refresh_buttons(self) -> None:
        """Buttons only for whoever may mark (an engineer); the mark itself is shown to all."""
        allowed = self.marker.allowed()
        for kind, button in self.buttons.items():
            button.setVisible(allowed)
            current = None if self.mark is None else self.mark.kind
            button.setEnabled(kind != current)

    def _load(self) -> None:
        archive, record = self.archive, self.record

        def work():
            return {heat: to_qimage(overlay(archive, record, heat)) for heat in (True, False)}

        self.worker.submit(work, done=self._loaded)

    def _loaded(self, images, error: str | None) -> None:
        if error:
            self.image.setText(f"Image not available: {error}")
            return
        self._pixmaps = {k: QPixmap.fromImage(v) for k, v in images.items()}
        self._paint()

    def _paint(self) -> None:
        pix = self._pixmaps.get(self.heat_box.isChecked() and bool(self.record.heatmap_path))
        if pix is not None:
            self.image.setPixmap(pix.scaled(VIEW, VIEW, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))

    def set_mark(self, kind: str | None) -> None:
        """Mark the part (None: clear); stored with who and when, and in the audit trail."""
        for button in self.buttons.values():
            button.setEnabled(False)
        show_message(self.message, "saving…")
        if not self.marker.mark(self.record, kind, self._marked):
            self.refresh_buttons()

    def _marked(self, mark: Mark | None, error: str | None) -> None:
        try:
            if error:
                show_message(self.message, f"Not marked: {error}", error=True)
            else:
                self.mark = mark
                self.mark_label.setText(mark_text(mark))
                show_message(self.message, "saved (and in the audit trail)")
            self.refresh_buttons()
        except RuntimeError:  # the dialog was closed meanwhile: the mark is stored all the same
            pass

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        try:
            self.marker.gate.changed.disconnect(self.refresh_buttons)
        except (RuntimeError, TypeError):
            pass
        self.worker.shutdown(wait=False)
        super().closeEvent(event)
