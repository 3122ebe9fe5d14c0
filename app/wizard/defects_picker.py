"""The Train page's optional folder of annotated defective images, for DSR's supervised
extension: a few real defects, each with its mask, mixed into stage 3's anomalies. Shown only
when DSR is chosen; the folder is checked at once (how many images have a mask, which do not),
so the engineer knows before training what it will learn from."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from core.training.defect_samples import MASK_SUFFIX, find_defects

TIP = ("Optional, DSR only: a folder of defective images of this part, each with its mask "
       f"(<name>{MASK_SUFFIX}.png beside it, or an MVTec test/<kind> folder with ground_truth). "
       "DSR learns from them besides its own synthetic anomalies; evaluation leaves them out.")


class DefectsPicker(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.folder: str | None = None  # a folder with at least one usable image, else None
        self.choose_button = QPushButton("Annotated defects…")
        self.clear_button = QPushButton("Clear")
        self.label = QLabel("none: synthetic anomalies only", wordWrap=True)
        for w in (self.choose_button, self.label):
            w.setToolTip(TIP)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.choose_button)
        row.addWidget(self.label, 1)
        row.addWidget(self.clear_button)
        self.clear_button.setEnabled(False)
        self.choose_button.clicked.connect(self.choose)
        self.clear_button.clicked.connect(lambda: self.set_folder(None))

    def choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of annotated defective images",
                                                  self.folder or str(Path.home()))
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str | None) -> None:
        """Check ``folder`` and keep it when it holds at least one image with a mask."""
        self.folder = None
        self.clear_button.setEnabled(folder is not None)
        if folder is None:
            self._say("none: synthetic anomalies only")
            return
        try:
            pairs, missing = find_defects(folder)
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        if not pairs:
            why = f" ({missing[0][0].name}: {missing[0][1]})" if missing else ""
            self._say(f"{folder}: no image with a mask{why}", error=True)
            return
        self.folder = str(folder)
        text = f"{len(pairs)} annotated defect image(s) in {folder}"
        if missing:
            text += f"; {len(missing)} skipped ({missing[0][0].name}: {missing[0][1]})"
        self._say(text)

    def _say(self, text: str, error: bool = False) -> None:
        self.label.setStyleSheet("color: #c62828;" if error else "")
        self.label.setText(text)
