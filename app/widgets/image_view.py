"""Live image with the anomaly map as a colour overlay, the defect outline and a cursor readout.

Three layers in one ViewBox (zoom with the wheel, pan by dragging): the camera image, the heat
map (colour map, alpha rising with the anomaly value, global opacity slider) and the outline of
the pixels at or above the pixel threshold. A mode toggle shows image / overlay / heat map.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (QButtonGroup, QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout,
                               QWidget)

from core.display import outline_rgba, to_display_rgb, to_uint8

MODES = ("image", "overlay", "heatmap")


def heat_scale(pixel: float) -> tuple[float, float]:
    """Colour-map levels for an anomaly map: the pixel threshold sits at two thirds of the scale,
    so that a value at the threshold is clearly warm whatever the model's range."""
    return 0.0, float(min(1.0, max(1.5 * pixel, 1e-3)))


def heat_luts(pixel: float, name: str = "inferno") -> tuple[np.ndarray, np.ndarray]:
    """(overlay LUT, opaque LUT) as 256x4 uint8 over :func:`heat_scale`. In the overlay the
    alpha is 0 below 60 % of the pixel threshold and rises to 1 at the threshold, so the
    background's low anomaly values leave the image untouched."""
    rgb = pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False)
    lo, hi = heat_scale(pixel)
    values = np.linspace(lo, hi, 256)
    p = max(float(pixel), 1e-6)
    alpha = np.clip((values - 0.6 * p) / (0.4 * p), 0.0, 1.0)
    overlay = np.column_stack([rgb, to_uint8(alpha)])
    opaque = np.column_stack([rgb, np.full(256, 255, np.uint8)])
    return overlay.astype(np.uint8), opaque.astype(np.uint8)


class LiveImageView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._image: np.ndarray | None = None  # as given (for the readout)
        self._amap: np.ndarray | None = None
        self._pixel = 0.5
        self._mode = "overlay"
        self._lut_overlay, self._lut_opaque = heat_luts(self._pixel)
        self._lut_pixel = self._pixel
        self.graphics = pg.GraphicsLayoutWidget()
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item = pg.ImageItem(axisOrder="row-major", levels=(0.0, 1.0))
        self.outline_item = pg.ImageItem(axisOrder="row-major")
        for z, item in enumerate((self.image_item, self.heat_item, self.outline_item)):
            item.setZValue(z)
            self.view.addItem(item)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse)
        self.graphics.installEventFilter(self)  # the readout is cleared when the cursor leaves

        self.mode_group = QButtonGroup(self)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        for i, (mode, text, key) in enumerate((("image", "Image", "1"), ("overlay", "Overlay", "2"),
                                               ("heatmap", "Heat map", "3"))):
            b = QToolButton(text=text, checkable=True, toolTip=f"Show {text.lower()} ({key})")
            b.setChecked(mode == self._mode)
            self.mode_group.addButton(b, i)
            controls.addWidget(b)
        self.mode_group.idClicked.connect(lambda i: self.set_mode(MODES[i]))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=60)
        self.opacity_slider.setMaximumWidth(140)
        self.opacity_slider.setToolTip("Heat-map opacity")
        self.opacity_slider.valueChanged.connect(self._apply_mode)
        self.outline_box = QToolButton(text="Outline", checkable=True, checked=True,
                                       toolTip="Outline pixels above the pixel threshold")
        self.outline_box.toggled.connect(self._apply_mode)
        self.fit_button = QToolButton(text="Fit", toolTip="Zoom to fit the image")
        self.fit_button.clicked.connect(lambda: self.view.autoRange(padding=0.0))
        controls.addSpacing(8)
        controls.addWidget(QLabel("Opacity"))
        controls.addWidget(self.opacity_slider)
        controls.addWidget(self.outline_box)
        controls.addWidget(self.fit_button)
        controls.addStretch(1)
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        controls.addWidget(self.readout)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)
        self._apply_mode()

    # --- public API -------------------------------------------------------------------------
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"LiveImageView.set_mode: unknown mode {mode!r}; expected one of {MODES}")
        self._mode = mode
        self.mode_group.button(MODES.index(mode)).setChecked(True)
        self._apply_mode()

    def show_frame(self, image: np.ndarray, anomaly_map: np.ndarray | None, pixel: float) -> None:
        """Display a camera image (uint8/uint16, BGR or gray) and its anomaly map (HxW, [0, 1])."""
        first = self._image is None or self._image.shape[:2] != image.shape[:2]
        self._image, self._amap, self._pixel = image, anomaly_map, float(pixel)
        disp = to_display_rgb(image)
        self.image_item.setImage(disp, autoLevels=False, levels=(0, 255))
        if anomaly_map is None:
            self.heat_item.clear()
            self.outline_item.clear()
        else:
            self.heat_item.setImage(anomaly_map, autoLevels=False, levels=heat_scale(self._pixel))
            self._set_pixel_scale()
        self._apply_mode()
        if first:
            self.view.autoRange(padding=0.0)

    def clear(self) -> None:
        """No frame (a recipe switch or a stop): empty image, map and readout."""
        self._image = self._amap = None
        for item in (self.image_item, self.heat_item, self.outline_item):
            item.clear()
        self.clear_readout()

    def clear_readout(self) -> None:
        self.readout.setText(" ")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if obj is self.graphics and event.type() == QEvent.Type.Leave:
            self.clear_readout()
        return False

    def set_pixel_threshold(self, pixel: float) -> None:
        """Redraw the outline of the current frame for another pixel threshold."""
        self._pixel = float(pixel)
        if self._amap is not None:
            self._set_pixel_scale()

    def value_at(self, x: int, y: int) -> tuple[object, float | None] | None:
        """(pixel value, anomaly value) at image column ``x``, row ``y``; None outside the image."""
        if self._image is None or not (0 <= y < self._image.shape[0] and 0 <= x < self._image.shape[1]):
            return None
        px = self._image[y, x]
        px = px.tolist()[::-1] if np.ndim(px) else int(px)  # BGR -> RGB order for reading
        an = None if self._amap is None else float(self._amap[y, x])
        return px, an

    # --- internals --------------------------------------------------------------------------
    def _set_pixel_scale(self) -> None:
        """Outline, colour scale and overlay transparency follow the pixel threshold."""
        if self._lut_pixel != self._pixel:
            self._lut_overlay, self._lut_opaque = heat_luts(self._pixel)
            self._lut_pixel = self._pixel
        self.heat_item.setLevels(heat_scale(self._pixel))
        self._draw_outline()
        self._apply_mode()

    def _draw_outline(self) -> None:
        self.outline_item.setImage(outline_rgba(self._amap, self._pixel), autoLevels=False, levels=(0, 255))

    def _apply_mode(self, *_: object) -> None:
        opacity = self.opacity_slider.value() / 100.0
        self.image_item.setVisible(self._mode != "heatmap")
        self.heat_item.setVisible(self._mode != "image" and self._amap is not None)
        if self._mode == "heatmap":
            self.heat_item.setLookupTable(self._lut_opaque)
            self.heat_item.setOpacity(1.0)
        else:
            self.heat_item.setLookupTable(self._lut_overlay)
            self.heat_item.setOpacity(opacity)
        self.outline_item.setVisible(self.outline_box.isChecked() and self._amap is not None)

    def _on_mouse(self, pos) -> None:
        if not self.view.sceneBoundingRect().contains(pos):
            self.clear_readout()
            return
        p = self.view.mapSceneToView(pos)
        x, y = int(np.floor(p.x())), int(np.floor(p.y()))
        hit = self.value_at(x, y)
        if hit is None:
            self.readout.setText(" ")
            return
        px, an = hit
        an_text = "—" if an is None else f"{an:.3f}"
        self.readout.setText(f"x {x}  y {y}   pixel {px}   anomaly {an_text}")
