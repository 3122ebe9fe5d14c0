"""*Recipe settings…*: the alarm rules, false-reject target and training defaults of one
recipe, editable; what the training wizard sets (camera, ROI, preprocessing) shown only.

*Save…* checks the changed settings with the recipe's own validation (a wrong one is said
here, nothing is asked or saved) and emits ``saveRequested(old, new)`` with only those; the
window's role gate asks why and records them, then calls :meth:`save`, which hands the change
to the session controller's thread (``edit(name, change, done)``): neither the GUI nor the
inspection waits on the file. Non-modal (``show()``): the live view keeps running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QVBoxLayout)

from app.recipe_settings.alarms_form import AlarmsForm
from app.recipe_settings.fields import (changed_keys, describe_changes, describe_wizard_settings,
                                        settings_of, with_settings)
from app.recipe_settings.inspection_form import InspectionForm
from app.wizard.qtutil import message_label, show_message
from core.recipe import Recipe

_log = logging.getLogger(__name__)
WIZARD_NOTE = ("Changing these under a deployed model would make it score a different image "
               "than it was trained on: retrain with Train model… to change them.")
MAX_SHOWN = 160  # characters of a read-only value (the whole of it in the tooltip)


class RecipeSettingsDialog(QDialog):
    saveRequested = Signal(object, object)  # (old, new): only the changed settings, by name

    def __init__(self, recipe: Recipe, edit: Callable[[str, Callable, Callable], object],
                 parent=None) -> None:
        """``edit(name, change, done)``: saves ``change`` (Recipe -> Recipe) off the GUI thread
        and calls ``done(recipe, error)`` on it (SessionController.edit_recipe)."""
        super().__init__(parent)
        self.edit = edit
        self.saving = False
        self.gone = False  # closed for good (the window drops it): a late save shows nothing
        self.finished.connect(lambda _result: setattr(self, "gone", True))
        self.setWindowTitle(f"Recipe settings: {recipe.name}")
        self.alarms = AlarmsForm()
        self.inspection = InspectionForm()
        self.wizard_box = QGroupBox("Set by the training wizard")
        self.wizard_form = QFormLayout(self.wizard_box)
        self.message = message_label()
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the changed settings to the recipe (asks why: kept "
                                    "in the audit trail); alarm rules are in force at once")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        right = QVBoxLayout()
        right.addWidget(self.inspection)
        right.addWidget(self.wizard_box)
        right.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.alarms)
        left.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(buttons)
        col = QVBoxLayout(self)
        self.intro = QLabel("", wordWrap=True)
        col.addWidget(self.intro)
        col.addLayout(columns, 1)
        col.addLayout(bottom)
        self.load(recipe)
        self.alarms.changed.connect(self._update)
        self.inspection.changed.connect(self._update)
        self.save_button.clicked.connect(self.submit)

    # --- what is shown --------------------------------------------------------------------
    def load(self, recipe: Recipe) -> None:
        """Show ``recipe`` as it is now: nothing changed, Save disabled."""
        self.recipe = recipe
        self.intro.setText(f"Recipe <b>{recipe.name}</b>: the alarms the station raises while "
                           "it inspects this part, and what the training wizard preselects for "
                           "it. Changes are recorded in the audit trail.")
        self.alarms.set_rules(recipe.alarms)
        self.inspection.set_recipe(recipe)
        while self.wizard_form.rowCount():
            self.wizard_form.removeRow(0)
        for what, value in describe_wizard_settings(recipe):
            label = QLabel(value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN - 1] + "…",
                           wordWrap=True)
            label.setToolTip(value)
            self.wizard_form.addRow(what, label)
        note = QLabel(WIZARD_NOTE, wordWrap=True)
        note.setStyleSheet("color: #5f6368;")
        self.wizard_form.addRow(note)
        # the baseline is what the widgets show, so that a value they round is no change
        self.shown = self.values()
        self._update()

    def values(self) -> dict[str, object]:
        return {**self.alarms.values(), **self.inspection.values()}

    def changes(self) -> list[str]:
        return changed_keys(self.shown, self.values())

    def _update(self) -> None:
        n = len(self.changes())
        self.save_button.setEnabled(n > 0 and not self.saving)
        if not self.saving:
            show_message(self.message, f"{n} setting{'s' if n != 1 else ''} changed, not saved "
                         "yet" if n else "")

    # --- saving -----------------------------------------------------------------------------
    def submit(self) -> None:
        """Save…: the changed settings checked, then ``saveRequested(old, new)``."""
        keys = self.changes()
        if not keys or self.saving:
            return
        values = self.values()
        new = {k: values[k] for k in keys}
        try:
            with_settings(self.recipe, new)
        except ValueError as exc:  # RecipeError names the field; nothing is asked or saved
            show_message(self.message, f"Not saved: {exc}", error=True)
            return
        before = settings_of(self.recipe)
        self.saveRequested.emit({k: before[k] for k in keys}, new)

    def summary(self, old: dict, new: dict) -> str:
        """The change in words, for the reason dialog."""
        return f"Recipe '{self.recipe.name}': {describe_changes(old, new)}."

    def save(self, new: dict[str, object]) -> None:
        """Write ``new`` (recorded already) into the recipe as it is on disk then; saved even
        when the dialog was closed meanwhile (sign-out), since the entry says it was."""
        if not self.gone:
            self.saving = True
            self.save_button.setEnabled(False)
            show_message(self.message, "Saving…")
        try:
            self.edit(self.recipe.name, lambda recipe: with_settings(recipe, new), self._saved)
        except RuntimeError as exc:  # the controller is shutting down
            self._saved(None, str(exc))

    def _saved(self, recipe: Recipe | None, error: str | None) -> None:
        self.saving = False
        if error is not None:
            _log.error("recipe settings of '%s' not saved: %s", self.recipe.name, error)
        if self.gone:  # closed: nothing left to show it in (the log has it)
            return
        if error is not None:
            self._update()
            show_message(self.message, f"Not saved: {error}", error=True)
            return
        self.load(recipe)
        show_message(self.message, "Saved. The alarm rules are in force.")
