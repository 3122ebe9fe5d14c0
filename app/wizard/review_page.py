"""Step 3, Review: a thumbnail gallery; blurred and near-duplicate images are flagged;
the split into training and validation images is shown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem,
                               QPushButton, QVBoxLayout, QWizardPage)

from app.wizard.context import WizardContext
from app.wizard.qtutil import message_label, show_message, to_pixmap
from core.io.images import ImageReadError, read_image
from core.training.collect import MINIMUM_SAMPLES, review
from core.training.data import split_holdout

PATH_ROLE = Qt.ItemDataRole.UserRole


class ReviewPage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("3. Review the samples")
        self.setSubTitle("Remove anything that is not a good part. Red: flagged automatically "
                         "(blurred, near-duplicate, unreadable); hover for the reason.")
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(96, 96))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.gallery.setSpacing(4)
        self.split_label = QLabel()
        self.split_label.setStyleSheet("font-weight: bold;")
        self.select_flagged = QPushButton("Select flagged")
        self.remove_button = QPushButton("Remove selected")
        self.message = message_label()
        row = QHBoxLayout()
        row.addWidget(self.split_label, 1)
        row.addWidget(self.select_flagged)
        row.addWidget(self.remove_button)
        col = QVBoxLayout(self)
        col.addWidget(self.gallery, 1)
        col.addLayout(row)
        col.addWidget(self.message)
        self.select_flagged.clicked.connect(self._select_flagged)
        self.remove_button.clicked.connect(self.remove_selected)
        self.flags = None

    def initializePage(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        folder = self.ctx.samples()
        paths = folder.paths()
        self.flags = review(paths)
        self.gallery.clear()
        for p in paths:
            item = QListWidgetItem(p.stem.replace("sample-", ""))
            item.setData(PATH_ROLE, str(p))
            try:
                item.setIcon(QIcon(to_pixmap(read_image(p), 96)))
            except ImageReadError:
                pass
            problems = self.flags.problems.get(p)
            if problems:
                item.setBackground(QBrush(QColor("#ef9a9a")))
                item.setToolTip(f"{p.name}: " + "; ".join(problems))
            else:
                item.setToolTip(p.name)
            self.gallery.addItem(item)
        self._update_split(paths)

    def _update_split(self, paths: list[Path]) -> None:
        train, val = split_holdout(paths, self.ctx.holdout, self.ctx.seed)
        flagged = len(self.flags.problems) if self.flags else 0
        self.split_label.setText(f"{len(paths)} samples: {len(train)} for training, {len(val)} held "
                                 f"out for validation; {flagged} flagged")
        self.completeChanged.emit()

    def flagged_paths(self) -> list[Path]:
        return self.flags.flagged() if self.flags else []

    def _select_flagged(self) -> None:
        flagged = {str(p) for p in self.flagged_paths()}
        for i in range(self.gallery.count()):
            item = self.gallery.item(i)
            item.setSelected(item.data(PATH_ROLE) in flagged)

    def remove_selected(self) -> int:
        """Move the selected samples to the ``removed`` folder; returns how many."""
        paths = [Path(item.data(PATH_ROLE)) for item in self.gallery.selectedItems()]
        if not paths:
            return 0
        try:
            dest = self.ctx.samples().remove(paths)
        except (OSError, ValueError) as exc:
            show_message(self.message, f"cannot remove: {exc}", error=True)
            return 0
        show_message(self.message, f"moved {len(paths)} sample(s) to {dest}")
        self.refresh()
        return len(paths)

    def isComplete(self) -> bool:
        return self.gallery.count() >= MINIMUM_SAMPLES

    def validatePage(self) -> bool:
        if self.gallery.count() < MINIMUM_SAMPLES:
            show_message(self.message, f"too few samples left ({self.gallery.count()}); go back and "
                                       f"collect at least {MINIMUM_SAMPLES}", error=True)
            return False
        return True
