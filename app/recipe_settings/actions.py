"""The window's side of *Recipe settings…*: one non-modal dialog for the recipe selected in
the window, its Save handed to the role gate first (``on_save``), closed with the window."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.recipe_settings.dialog import RecipeSettingsDialog
from app.widgets.present import discard, present


class RecipeSettingsActions(QObject):
    def __init__(self, window, controller) -> None:
        super().__init__(window)
        self.window, self.controller = window, controller
        self.dialog: RecipeSettingsDialog | None = None
        # on_save(dialog, old, new): the window's role gate asks why and records the change,
        # then calls dialog.save(new) (None: saved unasked, for a window without roles)
        self.on_save = None

    def selected_recipe(self) -> str | None:
        return self.window.toolbar.recipe_combo.currentText() or self.window.recipe_name

    def open_dialog(self) -> RecipeSettingsDialog | None:
        name = self.selected_recipe()
        if not name:
            self.window.show_error("No recipe to edit: create one with the training wizard")
            return None
        if self.dialog is not None and self.dialog.recipe.name != name:
            self.dialog.close()  # another recipe selected meanwhile: its own settings
            self._closed()
        if self.dialog is None:
            try:  # a small TOML file; a broken one is said, nothing opened
                recipe = self.controller.recipes.get(name, check_model=False)
            except ValueError as exc:
                self.window.show_error(f"Recipe settings: {exc}")
                return None
            d = self.dialog = RecipeSettingsDialog(recipe, self.controller.edit_recipe,
                                                   parent=self.window)
            d.finished.connect(self._closed)
            d.saveRequested.connect(lambda old, new: self.on_save(d, old, new)
                                    if self.on_save is not None else d.save(new))
        return present(self.dialog)

    def _closed(self) -> None:
        dialog, self.dialog = self.dialog, None
        discard(dialog)

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
