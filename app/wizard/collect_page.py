"""Step 2, Collect: good samples from the live camera (button, every N frames, each trigger)
or imported from a folder; near-duplicates are skipped."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWizardPage)

from app.wizard.camera_feed import CameraFeed
from app.wizard.context import WizardContext
from app.wizard.qtutil import message_label, show_message, to_pixmap
from core.io.images import read_image
from core.recipe import apply_preprocessing
from core.training.collect import (MINIMUM_SAMPLES, RECOMMENDED_SAMPLES, DuplicateFilter,
                                   SampleFolder)

MODES = ("By button", "Every N frames", "On each trigger")


class CollectPage(QWizardPage):
    def __init__(self, ctx: WizardContext, feed: CameraFeed) -> None:
        super().__init__()
        self.ctx, self.feed = ctx, feed
        self.setTitle("2. Collect good samples")
        self.setSubTitle("Capture good parts only. Near-duplicates (a part that did not move) are "
                         "skipped automatically. You can also import a folder of good images.")
        self.folder: SampleFolder | None = None
        self.dedupe = DuplicateFilter()
        self.frames_seen = 0
        self.preview = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(320, 320)
        self.preview.setStyleSheet("background: #202020;")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(MODES)
        self.every_spin = QSpinBox(minimum=1, maximum=1000, value=10, suffix=" frames")
        self.running_box = QCheckBox("Collecting")
        self.capture_button = QPushButton("Capture now")
        self.trigger_button = QPushButton("Software trigger")
        self.import_button = QPushButton("Import folder…")
        self.count_label = QLabel()
        self.count_label.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.bar = QProgressBar(maximum=RECOMMENDED_SAMPLES, textVisible=False)
        self.last_thumb = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.last_thumb.setMinimumSize(160, 160)
        self.message = message_label()

        controls = QVBoxLayout()
        controls.addWidget(QLabel("Capture mode"))
        controls.addWidget(self.mode_combo)
        controls.addWidget(self.every_spin)
        controls.addWidget(self.running_box)
        controls.addWidget(self.capture_button)
        controls.addWidget(self.trigger_button)
        controls.addWidget(self.import_button)
        controls.addSpacing(12)
        controls.addWidget(self.count_label)
        controls.addWidget(self.bar)
        controls.addWidget(QLabel("Last sample"))
        controls.addWidget(self.last_thumb)
        controls.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.preview, 1)
        row.addLayout(controls)
        col = QVBoxLayout(self)
        col.addLayout(row, 1)
        col.addWidget(self.message)

        self.capture_button.clicked.connect(self.capture)
        self.trigger_button.clicked.connect(self.feed.trigger)
        self.import_button.clicked.connect(self._ask_import)
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)
        self.feed.frame.connect(self._on_frame)
        self._mode_changed()

    def initializePage(self) -> None:
        self.folder = self.ctx.samples()
        self.dedupe = DuplicateFilter()
        for p in self.folder.paths():  # samples kept from an earlier session
            try:
                self.dedupe.add(read_image(p))
            except ValueError:
                pass  # flagged as unreadable on the Review page
        self.message.clear()
        self._update_count()

    def cleanupPage(self) -> None:
        self.running_box.setChecked(False)

    def _mode_changed(self) -> None:
        mode = self.mode_combo.currentText()
        self.every_spin.setEnabled(mode == MODES[1])
        self.running_box.setEnabled(mode != MODES[0])
        self.trigger_button.setEnabled(mode == MODES[2])

    def crop(self, image):
        return apply_preprocessing(image, self.ctx.preprocessing, self.ctx.roi)

    def _on_frame(self, frame) -> None:
        if self.folder is None or not self.isVisible() and not self.running_box.isChecked():
            return
        try:
            part = self.crop(frame.image)
        except ValueError as exc:  # ROI outside a frame of another size
            show_message(self.message, f"{exc}: go back and redraw the region of interest", error=True)
            self.running_box.setChecked(False)
            return
        self.preview.setPixmap(to_pixmap(part, max(64, min(self.preview.width(), self.preview.height()) - 8)))
        self.frames_seen += 1
        if not self.running_box.isChecked():
            return
        mode = self.mode_combo.currentText()
        if mode == MODES[2] or (mode == MODES[1] and self.frames_seen % self.every_spin.value() == 0):
            self._keep(part)

    def capture(self) -> bool:
        """Keep the newest frame (cropped to the ROI) unless it is a near-duplicate."""
        frame = self.feed.last or self.feed.wait_frame(2.0)
        if frame is None:
            show_message(self.message, "no image from the camera", error=True)
            return False
        try:
            return self._keep(self.crop(frame.image))
        except ValueError as exc:
            show_message(self.message, str(exc), error=True)
            return False

    def _keep(self, part) -> bool:
        if not self.dedupe.accept(part):
            show_message(self.message, "skipped: near-duplicate of a sample already collected")
            return False
        try:
            path = self.folder.add(part)
        except (OSError, ValueError) as exc:
            self.running_box.setChecked(False)
            show_message(self.message, f"cannot save the sample ({exc}); collecting stopped", error=True)
            return False
        self.last_thumb.setPixmap(to_pixmap(part, 160))
        show_message(self.message, f"saved {path.name}")
        self._update_count()
        return True

    def _ask_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import good images")
        if folder:
            self.import_folder(Path(folder))

    def import_folder(self, folder: Path) -> int:
        """Import the readable, non-duplicate images of ``folder``; returns how many."""
        try:
            added, skipped = self.folder.import_folder(folder, self.dedupe)
        except (OSError, ValueError) as exc:
            show_message(self.message, f"import failed: {exc}", error=True)
            return 0
        text = f"imported {len(added)} image(s) from {folder}"
        if skipped:
            reasons = "; ".join(f"{p.name}: {why}" for p, why in skipped[:5])
            text += f"; skipped {len(skipped)} ({reasons}{' …' if len(skipped) > 5 else ''})"
        show_message(self.message, text, error=bool(skipped) and not added)
        self._update_count()
        return len(added)

    def _update_count(self) -> None:
        n = len(self.folder) if self.folder else 0
        self.count_label.setText(f"{n} / {RECOMMENDED_SAMPLES} samples")
        self.count_label.setToolTip(f"recommended at least {RECOMMENDED_SAMPLES}; "
                                    f"training needs at least {MINIMUM_SAMPLES}")
        self.bar.setValue(min(n, RECOMMENDED_SAMPLES))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.folder is not None and len(self.folder) >= MINIMUM_SAMPLES

    def validatePage(self) -> bool:
        n = len(self.folder)
        if n < MINIMUM_SAMPLES:
            show_message(self.message, f"too few samples: {n} collected, at least {MINIMUM_SAMPLES} "
                                       f"needed ({RECOMMENDED_SAMPLES} recommended)", error=True)
            return False
        self.running_box.setChecked(False)
        return True
