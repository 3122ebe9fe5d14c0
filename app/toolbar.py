"""The window's actions (start, stop, freeze, snapshot, training, model versions, recipe
settings, audit trail, operator mode, sign-in, users) and the recipe selector."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QToolBar, QWidget


class MainToolBar(QToolBar):
    def __init__(self, parent: QWidget) -> None:
        super().__init__("Inspection", parent)
        self.setMovable(False)
        self.setObjectName("mainToolBar")
        # what the role or the kiosk allows (app/auth sets these, set_state applies them)
        self.allow_start_stop = self.allow_recipe = True
        recipe_label = self.addWidget(QLabel(" Recipe "))
        self.recipe_combo = QComboBox()
        self.recipe_combo.setMinimumContentsLength(14)
        self.recipe_combo.setToolTip("Recipe to inspect (switching restarts inspection)")
        self.recipe_actions = (recipe_label, self.addWidget(self.recipe_combo))
        self.addSeparator()
        self.start_action = self._action("Start", "F5", "Start inspecting")
        self.stop_action = self._action("Stop", "Shift+F5", "Stop inspecting and release the camera")
        self.freeze_action = self._action("Freeze", "Space", "Freeze the displayed frame", checkable=True)
        self.snapshot_action = self._action("Snapshot", "Ctrl+S",
                                            "Save the displayed image, overlay and result")
        self.addSeparator()
        self.train_action = self._action(
            "Train model…", "Ctrl+T",
            "Open the training wizard beside the live view: train a new part, or retrain the "
            "current recipe. Inspection keeps running; when the wizard uses the camera being "
            "inspected it takes its frames from the live stream instead of opening the camera "
            "again. A deployed model is switched to without stopping")
        self.versions_action = self._action(
            "Model versions…", "Ctrl+M",
            "Model versions of the current recipe: activate one, e.g. roll back to an earlier "
            "version (the live model switches without stopping)")
        self.lineio_action = self._action(
            "Line I/O…", "Ctrl+L",
            "The station's links to the line (PLC, broker, camera outputs): configure them, watch "
            "every signal live, force an output by hand and send test results (commissioning)")
        self.recipe_settings_action = self._action(
            "Recipe settings…", "Ctrl+R",
            "The selected recipe's alarm rules, false-reject target and training defaults: "
            "change them (each change audited with why); alarm rules are in force at once")
        self.audit_action = self._action(
            "Audit trail…", "Ctrl+Shift+A",
            "Who changed what, when and why: filter the entries, verify the hash chain, export CSV")
        self.addSeparator()
        self.operator_action = self._action("Operator mode", "F11",
                                            "Full screen with image, verdict and counters only",
                                            checkable=True)
        self.addSeparator()
        self.sign_in_action = self._action("Sign in…", "Ctrl+I",
                                           "Engineers and administrators: sign in for thresholds, "
                                           "training, model versions, line I/O, recipe settings and "
                                           "counter reset")
        self.users_action = self._action("Users…", "Ctrl+U", "Add, remove and change the "
                                         "station's engineers and administrators")
        self.stop_action.setEnabled(False)

    def _action(self, text: str, key: str, tip: str, checkable: bool = False) -> QAction:
        action = QAction(text, self.parent())
        action.setShortcut(QKeySequence(key))
        action.setToolTip(f"{tip} ({key})")
        action.setCheckable(checkable)
        self.parent().addAction(action)  # shortcuts work even when the toolbar is hidden
        self.addAction(action)
        return action

    def set_recipes(self, names: list[str], current: str | None) -> None:
        self.recipe_combo.blockSignals(True)
        self.recipe_combo.clear()
        self.recipe_combo.addItems(names)
        if current in names:
            self.recipe_combo.setCurrentText(current)
        self.recipe_combo.blockSignals(False)

    def set_state(self, running: bool, busy: bool) -> None:
        self.start_action.setEnabled(self.allow_start_stop and not busy and not running)
        self.stop_action.setEnabled(self.allow_start_stop and not busy and running)
        self.recipe_combo.setEnabled(self.allow_recipe and not busy)
