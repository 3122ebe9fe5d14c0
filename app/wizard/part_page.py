"""Step 1, Part: a new recipe or retraining one; the camera; the region of interest."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QRadioButton, QSpinBox, QVBoxLayout,
                               QWizardPage)

from app.wizard.camera_feed import CameraFeed
from app.wizard.context import WizardContext
from app.wizard.qtutil import message_label, show_message
from core.camera import CameraError
from core.recipe import RecipeError, Roi, check_name


class RoiView(pg.GraphicsLayoutWidget):
    """Live image with a draggable, resizable rectangle for the region of interest.

    Until a region is chosen (dragged, typed, or a recipe's), the rectangle covers the whole
    frame, and follows the frame's size when another camera is opened."""

    def __init__(self) -> None:
        super().__init__()
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.rect = pg.RectROI([0, 0], [64, 64], pen=pg.mkPen("#ffca28", width=2), snapSize=1)
        self.rect.addScaleHandle([0, 0], [1, 1])
        self.view.addItem(self.rect)
        self._shape: tuple[int, int] | None = None
        self.chosen = False        # False: the whole frame, as no region was chosen yet
        self._placing = False
        self.rect.sigRegionChangeFinished.connect(self._dragged)

    def _dragged(self) -> None:
        if not self._placing:
            self.chosen = True

    def set_frame(self, image: np.ndarray) -> None:
        rgb = image[..., ::-1] if image.ndim == 3 else image
        first = self._shape is None
        resized = self._shape != image.shape[:2]
        self._shape = image.shape[:2]
        self.image.setImage(np.ascontiguousarray(rgb), autoLevels=False, levels=(0, 255))
        if resized and not self.chosen:
            h, w = self._shape
            self.set_roi(Roi(0, 0, w, h), chosen=False)
        if first:
            self.view.autoRange(padding=0.02)

    def roi(self) -> Roi:
        x, y = (int(round(v)) for v in self.rect.pos())
        w, h = (int(round(v)) for v in self.rect.size())
        return Roi(x, y, w, h)

    def set_roi(self, roi: Roi, chosen: bool = True) -> None:
        self._placing = True
        try:
            self.rect.setPos([roi.x, roi.y], update=False)
            self.rect.setSize([roi.w, roi.h])
        finally:
            self._placing = False
        self.chosen = chosen


class PartPage(QWizardPage):
    def __init__(self, ctx: WizardContext, feed: CameraFeed) -> None:
        super().__init__()
        self.ctx, self.feed = ctx, feed
        self.setTitle("1. Part")
        self.setSubTitle("Create a recipe for a new part or retrain an existing one, open its camera "
                         "and drag the yellow rectangle around the part.")
        self.new_radio = QRadioButton("New part")
        self.retrain_radio = QRadioButton("Retrain existing recipe")
        group = QButtonGroup(self)
        group.addButton(self.new_radio)
        group.addButton(self.retrain_radio)
        self.name_edit = QLineEdit(placeholderText="recipe name, e.g. bracket-A")
        self.recipe_combo = QComboBox()
        self.source_edit = QLineEdit(ctx.source)
        self.open_button = QPushButton("Open camera")
        self.roi_view = RoiView()
        self.spins = {k: QSpinBox(maximum=8192) for k in ("x", "y", "w", "h")}
        self.message = message_label()

        grid = QGridLayout()
        grid.addWidget(self.new_radio, 0, 0)
        grid.addWidget(self.name_edit, 0, 1)
        grid.addWidget(self.retrain_radio, 1, 0)
        grid.addWidget(self.recipe_combo, 1, 1)
        grid.addWidget(QLabel("Camera (sim, folder, genicam:SERIAL)"), 2, 0)
        cam = QHBoxLayout()
        cam.addWidget(self.source_edit, 1)
        cam.addWidget(self.open_button)
        grid.addLayout(cam, 2, 1)
        roi_row = QHBoxLayout()
        roi_row.addWidget(QLabel("Region of interest:"))
        for k, spin in self.spins.items():
            roi_row.addWidget(QLabel(k))
            roi_row.addWidget(spin)
        roi_row.addStretch(1)
        col = QVBoxLayout(self)
        col.addLayout(grid)
        col.addWidget(self.roi_view, 1)
        col.addLayout(roi_row)
        col.addWidget(self.message)

        self.new_radio.setChecked(True)
        self.open_button.clicked.connect(self.open_camera)
        self.feed.frame.connect(self._on_frame)
        self.feed.failed.connect(lambda m: show_message(self.message, m, error=True))
        self.roi_view.rect.sigRegionChanged.connect(self._rect_to_spins)
        for spin in self.spins.values():
            spin.valueChanged.connect(self._spins_to_rect)
        self.recipe_combo.currentTextChanged.connect(self._load_recipe)
        self.retrain_radio.toggled.connect(self._mode_changed)
        self.name_edit.textChanged.connect(self.completeChanged)
        self._syncing = False
        self._rect_to_spins()  # the boxes show the rectangle from the start

    def initializePage(self) -> None:
        names = self.ctx.store.names()
        self.recipe_combo.clear()
        self.recipe_combo.addItems(names)
        self.retrain_radio.setEnabled(bool(names))
        if self.ctx.retrain in names:  # opened to retrain this recipe
            self.recipe_combo.setCurrentText(self.ctx.retrain)
            self.retrain_radio.setChecked(True)
        self._mode_changed()

    def _mode_changed(self) -> None:
        retrain = self.retrain_radio.isChecked()
        self.name_edit.setEnabled(not retrain)
        self.recipe_combo.setEnabled(retrain)
        if retrain:
            self._load_recipe(self.recipe_combo.currentText())
        self.completeChanged.emit()

    def _load_recipe(self, name: str) -> None:
        if not name or not self.retrain_radio.isChecked():
            return
        try:
            recipe = self.ctx.store.get(name, check_model=False)
        except RecipeError as exc:
            show_message(self.message, str(exc), error=True)
            return
        if recipe.camera.source:
            self.source_edit.setText(recipe.camera.source)
        if recipe.roi is not None:
            self.roi_view.set_roi(recipe.roi)
        self.ctx.preprocessing = recipe.preprocessing
        self.ctx.false_reject = recipe.false_reject_target  # calibrated for the recipe's target
        self.ctx.anomalies = recipe.training.anomalies
        from app.wizard.model_choice import presets_for

        self.ctx.model = recipe.training.model  # a recipe that says dsr preselects DSR
        if recipe.training.preset in presets_for(recipe.training.model):
            self.ctx.preset = recipe.training.preset

    def open_camera(self) -> bool:
        spec = self.source_edit.text().strip() or "sim"
        try:
            self.feed.open(spec)
        except (CameraError, ValueError, OSError) as exc:
            show_message(self.message, f"cannot open camera '{spec}': {exc}", error=True)
            return False
        show_message(self.message, f"camera {spec} open")
        self.ctx.source = spec
        return True

    def _on_frame(self, frame) -> None:
        if self.isVisible() or self.roi_view._shape is None:
            self.roi_view.set_frame(frame.image)

    def _rect_to_spins(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        roi = self.roi_view.roi()
        for k in self.spins:
            self.spins[k].setValue(getattr(roi, k))
        self._syncing = False

    def _spins_to_rect(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.roi_view.set_roi(Roi(*(self.spins[k].value() for k in ("x", "y", "w", "h"))))
        self._syncing = False

    def set_roi(self, roi: Roi) -> None:
        self.roi_view.set_roi(roi)
        self._rect_to_spins()

    def isComplete(self) -> bool:
        return self.retrain_radio.isChecked() or bool(self.name_edit.text().strip())

    def validatePage(self) -> bool:
        retrain = self.retrain_radio.isChecked()
        name = self.recipe_combo.currentText() if retrain else self.name_edit.text().strip()
        try:
            check_name(name)
        except RecipeError as exc:
            show_message(self.message, str(exc), error=True)
            return False
        if not retrain and self.ctx.store.recipe_dir(name).exists():
            show_message(self.message, f"a recipe named '{name}' already exists: choose "
                                       f"'Retrain existing recipe' or another name", error=True)
            return False
        if not self.feed.is_open and not self.open_camera():
            return False
        frame = self.feed.last or self.feed.wait_frame(5.0)
        if frame is None:
            show_message(self.message, f"no image from camera {self.ctx.source}", error=True)
            return False
        roi = self.roi_view.roi()
        h, w = frame.image.shape[:2]
        if roi.w < 32 or roi.h < 32:
            show_message(self.message, f"the region of interest {roi.w}x{roi.h} is too small "
                                       f"(at least 32x32 pixels)", error=True)
            return False
        if roi.x < 0 or roi.y < 0 or roi.x + roi.w > w or roi.y + roi.h > h:
            show_message(self.message, f"the region of interest x={roi.x} y={roi.y} {roi.w}x{roi.h} "
                                       f"lies outside the {w}x{h} image: move it inside", error=True)
            return False
        self.ctx.recipe_name, self.ctx.is_new, self.ctx.roi = name, not retrain, roi
        self.message.clear()
        return True
