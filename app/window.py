"""The operator's main window, assembled from widgets; behaviour lives in the presenter
(painting) and the session controller (everything slow, off the GUI thread)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMainWindow, QSizePolicy, QSplitter, QVBoxLayout,
                               QWidget)

from app.alarms.view import AlarmsView
from app.audit.dialog import AuditActions
from app.auth.window_roles import WindowRoles
from app.gallery.actions import GalleryActions
from app.lineio.actions import LineIoActions
from app.model_actions import ModelActions
from app.presenter import LivePresenter
from app.recipe_settings.actions import RecipeSettingsActions
from app.toolbar import MainToolBar
from app.widgets.counters import CountersPanel
from app.widgets.histogram_plot import HistogramPlot
from app.widgets.image_view import MODES, LiveImageView
from app.widgets.lot_dialog import open_lot_dialog
from app.widgets.numfmt import decimals_to_tell_apart
from app.widgets.status_bar import CameraStatusBar
from app.widgets.style import APP_QSS
from app.widgets.thresholds_panel import ThresholdsPanel
from app.widgets.trend_plot import TrendPlot
from app.widgets.verdict_tile import VerdictTile
from app.workers.session_controller import SessionController
from core.recipe import Recipe, Thresholds


def breakable(text: str, run: int = 30) -> str:
    """``text`` with a zero-width space in every run of ``run`` characters without a space, so
    that a word-wrapped label can wrap a long path instead of growing wider."""
    out, n = [], 0
    for ch in text:
        n = 0 if ch.isspace() else n + 1
        out.append(ch)
        if n >= run:
            out.append("\u200b")
            n = 0
    return "".join(out)


class MainWindow(QMainWindow):
    def __init__(self, controller: SessionController, recipe: str | None = None) -> None:
        super().__init__()
        self.controller = controller
        self.recipe_name = recipe
        self.setWindowTitle("LineInspector")
        self.setStyleSheet(APP_QSS)
        self._build()
        self._connect()
        self.roles.refresh()
        self.presenter.start()

    # --- construction -----------------------------------------------------------------------
    def _build(self) -> None:
        self.toolbar = MainToolBar(self)
        self.addToolBar(self.toolbar)
        self.image_view = LiveImageView()
        self.trend = TrendPlot()
        self.histogram = HistogramPlot()
        self.tile = VerdictTile()
        self.counters = CountersPanel(tz=getattr(self.controller.shift_context.schedule, "tz", None))
        self.thresholds = ThresholdsPanel()
        self.status = CameraStatusBar()
        self.setStatusBar(self.status)
        self.error_label = QLabel("", objectName="faultText", wordWrap=True)
        # wrapped to the side column's width whatever the message (long paths included)
        self.error_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # at most four lines: a long message must not push the verdict tile and the thresholds
        # down off the screen (the whole text is in the tooltip and the log)
        self.error_label.setMaximumHeight(4 * self.error_label.fontMetrics().lineSpacing() + 8)
        self.error_label.setVisible(False)
        self.error_label.setToolTip("Click to dismiss")
        self.error_label.mousePressEvent = lambda _e: self.error_label.setVisible(False)

        plots = QWidget()
        row = QHBoxLayout(plots)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.trend, 3)
        row.addWidget(self.histogram, 2)
        self.left = QSplitter(Qt.Orientation.Vertical)
        self.left.addWidget(self.image_view)
        self.left.addWidget(plots)
        self.left.setStretchFactor(0, 3)
        self.left.setStretchFactor(1, 1)

        side = QWidget()
        col = QVBoxLayout(side)
        col.setContentsMargins(4, 0, 4, 0)
        col.addWidget(self.error_label)
        col.addWidget(self.tile)
        col.addWidget(self.counters)
        col.addWidget(self.thresholds)
        col.addStretch(1)
        side.setMinimumWidth(340)
        side.setMaximumWidth(460)
        self.side = side

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.left)
        split.addWidget(side)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setChildrenCollapsible(False)
        self.alarms = AlarmsView(self, self.controller)
        self.setCentralWidget(self.alarms.wrap(split))
        self.models = ModelActions(self, self.controller)
        self.line_io = LineIoActions(self, self.controller)
        self.recipe_settings = RecipeSettingsActions(self, self.controller)
        self.roles = WindowRoles(self, self.controller)  # every engineering action asks it
        self.audit_actions = AuditActions(self, self.controller, self.roles.gate)
        self.presenter = LivePresenter(self.controller, self.image_view, self.tile, self.counters,
                                       self.trend, self.histogram, self.thresholds, self.status,
                                       parent=self)
        self.gallery = GalleryActions(self, self.controller)  # NG / REVIEW parts, under the image
        self.left.insertWidget(1, self.gallery.strip)
        for i, mode in enumerate(MODES, start=1):
            QShortcut(QKeySequence(str(i)), self, activated=lambda m=mode: self.image_view.set_mode(m))
        QShortcut(QKeySequence("Escape"), self, activated=lambda: self.set_operator_mode(False))

    def _connect(self) -> None:
        c, tb = self.controller, self.toolbar
        c.busyChanged.connect(self._on_busy)
        c.runningChanged.connect(self._on_running)
        c.failed.connect(self.show_error)
        c.recipeActivated.connect(self._on_recipe)
        c.thresholdsSaved.connect(self._on_saved)
        c.snapshotSaved.connect(lambda p: self.status.notify(f"Snapshot saved: {p}", 8000))
        c.recipesChanged.connect(self.refresh_recipes)
        c.modelSwitched.connect(lambda name, v: self.status.notify(
            f"Now inspecting '{name}' with model v{v}", 8000))
        r = self.roles
        tb.start_action.triggered.connect(r.guarded("start_stop", self.start))
        tb.stop_action.triggered.connect(r.guarded("start_stop", c.stop))
        tb.freeze_action.toggled.connect(self.presenter.set_frozen)
        tb.snapshot_action.triggered.connect(self.snapshot)
        tb.operator_action.toggled.connect(self.set_operator_mode)
        tb.train_action.triggered.connect(r.guarded("train", self.models.open_wizard))
        tb.versions_action.triggered.connect(r.guarded("rollback", self.models.open_versions))
        tb.lineio_action.triggered.connect(r.guarded("line_io", self.line_io.open_dialog))
        tb.recipe_settings_action.triggered.connect(r.guarded("recipe_edit", self.recipe_settings.open_dialog))
        tb.recipe_combo.textActivated.connect(r.switch_recipe)
        self.counters.resetRequested.connect(r.reset_counters)  # the current recipe's
        tb.audit_action.triggered.connect(self.audit_actions.open_dialog)
        self.counters.lotRequested.connect(lambda: open_lot_dialog(self, c.shift_context))
        if c.shift_config_error:  # counting goes on without shifts: say why
            self.show_error(f"Shifts not used: {c.shift_config_error}")
        self.thresholds.previewChanged.connect(self._on_preview)
        self.thresholds.applyRequested.connect(r.apply_thresholds)
        self.models.on_activate, self.models.record_deploy = r.activate_version, r.record_deploy
        self.line_io.on_force, self.line_io.on_save = r.force_output, r.save_line_io
        self.recipe_settings.on_save = r.save_recipe
        for plot in (self.trend, self.histogram):
            plot.lines.dragged.connect(self.thresholds.set_value)
            self.thresholds.lockChanged.connect(lambda locked, p=plot: p.lines.set_movable(not locked))

    # --- commands ---------------------------------------------------------------------------
    def start(self, recipe: str | None = None) -> None:
        """Start (or switch to) ``recipe`` (default: the selected one) in the background."""
        name = recipe or self.toolbar.recipe_combo.currentText() or self.recipe_name
        if not name:
            self.show_error("No recipe to start: create one with 'lineinspect recipe create'")
            return
        self.recipe_name = name
        self.presenter.clear()
        self.controller.start(name)

    def refresh_recipes(self) -> None:
        self.toolbar.set_recipes(self.controller.recipe_names(), self.recipe_name)

    def snapshot(self) -> None:
        shown = self.presenter.displayed_result()
        if shown is None:
            self.status.notify("Nothing to snapshot yet", 4000)
            return
        self.controller.snapshot(shown, opacity=self.image_view.opacity_slider.value() / 100.0)

    def set_operator_mode(self, on: bool) -> None:
        """The operator kiosk (app/auth/kiosk.py): full screen, operator actions only; leaving
        it needs an engineer's sign-in."""
        self.roles.set_kiosk(on)

    def show_error(self, message: str) -> None:
        self.error_label.setText(breakable(message))
        self.error_label.setToolTip(f"{message}\n\n(click to dismiss)")
        self.error_label.setVisible(True)
        self.status.notify(message, 10000)

    # --- controller feedback ----------------------------------------------------------------
    def _on_busy(self, text: str) -> None:
        self.status.set_busy(text)
        self.toolbar.set_state(self.controller.running, bool(text))

    def _on_running(self, running: bool) -> None:
        self.toolbar.set_state(running, bool(self.controller.busy))
        if not running:
            self.tile.clear("STOPPED")

    def _on_recipe(self, recipe: Recipe) -> None:
        self.error_label.setVisible(False)
        self.image_view.clear_readout()
        self.counters.set_recipe(recipe.name)
        self.recipe_name = recipe.name
        self.refresh_recipes()
        inspector = self.controller.session.inspector if self.controller.session else None
        t = inspector.thresholds if inspector is not None else recipe.thresholds
        if t is not None:
            self._on_saved(t)
        self.setWindowTitle(f"LineInspector - {recipe.name}")

    def _on_saved(self, t: Thresholds) -> None:
        self.thresholds.set_applied(t)
        self.presenter.set_preview(None)
        self.presenter.set_in_force(t)
        d = decimals_to_tell_apart(t.ok_limit, t.ng_limit, minimum=3)
        self.status.notify(f"Thresholds in force: OK < {t.ok_limit:.{d}f}, NG >= {t.ng_limit:.{d}f}, "
                           f"pixel {t.pixel:.3f}", 6000)

    def _on_preview(self, t: Thresholds) -> None:
        self.presenter.set_preview(t if self.thresholds.is_modified() else None)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if not self.roles.may_close():  # asked first while inspecting
            event.ignore()
            return
        self.gallery.close()  # first: a mark being stored still writes its audit entry
        self.roles.close()
        self.models.close()
        self.line_io.close()
        self.recipe_settings.close()
        self.audit_actions.close()
        self.alarms.close()
        self.presenter.stop()
        self.status.set_busy("Stopping")
        self.controller.shutdown()
        super().closeEvent(event)
