"""The reject gallery strip: the newest NG and REVIEW parts of the recipe, newest first, as
thumbnails with their heat map, verdict colour, score and time; a click enlarges one.

Filled from the results store when a recipe starts and again shortly after each NG or
REVIEW the window paints (the row is committed within the writer's delay by then), and when
inspection stops. The query and the thumbnails run in the strip's worker thread (read-only
sqlite, small images, cached by result id): the GUI thread only places pixmaps.
"""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton

from app.gallery.thumbs import thumbnail
from app.widgets.style import VERDICT_COLOURS
from app.workers.background import Background
from core.store import paths
from core.store.marks import MarkStore, last_rejects
from core.store.records import ResultRecord

log = logging.getLogger(__name__)
THUMB = 84  # pixels, the longest side
SHOWN = 8  # parts kept; as many as fit are shown
REFRESH_DELAY_MS = 600  # after an NG / REVIEW is painted: its row is committed by then
MARK_TEXT = {"false_reject": "false reject", "confirmed_defect": "defect ✔"}


def tile_text(record: ResultRecord, mark=None) -> str:
    when = _dt.datetime.fromtimestamp(record.time).strftime("%H:%M:%S")
    text = f"{record.verdict} {record.score:.3f}\n{when}"
    return text + (f"\n{MARK_TEXT[mark.kind]}" if mark is not None else "")


class GalleryStrip(QFrame):
    """``opened(record)`` when a thumbnail is clicked (the window shows the enlarged view)."""

    opened = Signal(object)

    def __init__(self, data_dir: str | Path, n: int = SHOWN, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("galleryStrip")
        self.data_dir = Path(data_dir)
        self.archive = paths.archive_dir(self.data_dir)
        self.n = n
        self.recipe: str | None = None
        self.records: list[ResultRecord] = []  # shown, newest first
        self.marks: dict = {}  # result id -> Mark
        self.tiles: list[QToolButton] = []
        self._cache: dict[int, QPixmap] = {}
        self._again = False
        self._closed = False
        self.worker = Background("gallery-load", self)
        self.timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self.timer.timeout.connect(self.refresh)
        self.title = QLabel("Last NG /\nREVIEW", objectName="galleryTitle")
        self.empty = QLabel("No NG or REVIEW part yet", objectName="galleryEmpty")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(4, 2, 4, 2)
        self.row.setSpacing(4)
        self.row.addWidget(self.title)
        self.row.addWidget(self.empty)
        self.row.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(THUMB + 3 * self.fontMetrics().lineSpacing() + 16)

    # --- feeding ----------------------------------------------------------------------------
    def set_recipe(self, name: str | None) -> None:
        if name != self.recipe:
            self.recipe = name
            self._show([], {}, {})
        self.refresh()

    def on_result(self, shown) -> None:
        """A result the window painted: an NG or REVIEW soon refreshes the strip."""
        if str(shown.verdict) in ("NG", "REVIEW") and not self.timer.isActive():
            self.timer.start()

    def refresh(self) -> None:
        """Read the newest parts again (in the worker; one read at a time, the last wins)."""
        if self.recipe is None or self._closed:
            return
        if self.worker.busy:
            self._again = True
            return
        recipe, n, known, archive = self.recipe, self.n, set(self._cache), self.archive
        db = paths.results_db_path(self.data_dir)

        def work():
            if not db.is_file():
                return recipe, [], {}, {}
            marks = MarkStore(db)
            records = last_rejects(marks.query, n, recipe)
            thumbs = {r.id: thumbnail(archive, r, THUMB) for r in records if r.id not in known}
            return recipe, records, marks.for_results(r.id for r in records), thumbs

        self.worker.submit(work, done=self._loaded)

    def _loaded(self, out, error: str | None) -> None:
        if error:
            log.warning("reject gallery not refreshed: %s", error)
            self.empty.setText(f"Gallery: {error}")
        elif out[0] == self.recipe:
            _, records, marks, thumbs = out
            self._show(records, marks, thumbs)
        if self._again:
            self._again = False
            self.refresh()

    def set_mark(self, result_id: int, mark) -> None:
        """A part was marked (or its mark cleared): show it on its tile."""
        if mark is None:
            self.marks.pop(result_id, None)
        else:
            self.marks[result_id] = mark
        for record, tile in zip(self.records, self.tiles):
            if record.id == result_id:
                tile.setText(tile_text(record, mark))

    # --- drawing ----------------------------------------------------------------------------
    def _show(self, records: list[ResultRecord], marks: dict, thumbs: dict) -> None:
        for rid, image in thumbs.items():
            self._cache[rid] = QPixmap.fromImage(image)
        keep = {r.id for r in records}
        self._cache = {k: v for k, v in self._cache.items() if k in keep}
        self.records, self.marks = list(records), dict(marks)
        while len(self.tiles) < len(records):
            tile = QToolButton(toolButtonStyle=Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            tile.setIconSize(QSize(THUMB, THUMB))
            tile.setAutoRaise(False)
            tile.clicked.connect(lambda _=False, i=len(self.tiles): self._open(i))
            self.row.insertWidget(1 + len(self.tiles), tile)
            self.tiles.append(tile)
        for i, tile in enumerate(self.tiles):
            if i >= len(records):
                tile.setVisible(False)
                continue
            r = records[i]
            bg, fg = VERDICT_COLOURS.get(r.verdict, VERDICT_COLOURS[""])
            tile.setIcon(QIcon(self._cache.get(r.id, QPixmap())))
            tile.setText(tile_text(r, self.marks.get(r.id)))
            tile.setToolTip(f"{r.verdict}, score {r.score:.4f}: click to enlarge")
            tile.setStyleSheet(f"QToolButton {{ border: 3px solid {bg}; border-radius: 4px; "
                               f"padding: 1px; font-size: 8pt; }}")
            tile.setProperty("verdict", r.verdict)
        self.empty.setVisible(not records)
        if not records:
            self.empty.setText("No NG or REVIEW part yet")
        self._fit()

    def _fit(self) -> None:
        """Show as many tiles as the strip's width holds (the newest ones)."""
        if not self.tiles:
            return
        each = max(t.sizeHint().width() for t in self.tiles) + self.row.spacing()
        room = self.width() - self.title.sizeHint().width() - 16
        fit = max(1, room // max(1, each))
        for i, tile in enumerate(self.tiles):
            tile.setVisible(i < min(fit, len(self.records)))

    def visible_records(self) -> list[ResultRecord]:
        return [r for r, t in zip(self.records, self.tiles) if not t.isHidden()]

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit()

    def _open(self, i: int) -> None:
        if i < len(self.records):
            self.opened.emit(self.records[i])

    def close_worker(self) -> None:
        self._closed = True  # the window closes: a last stop of inspection refreshes nothing
        self.timer.stop()
        self.worker.shutdown(wait=True)

