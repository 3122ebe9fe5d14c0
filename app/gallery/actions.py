"""The gallery in the window: the strip, its feeding from the controller and the presenter,
the enlarged view on a click, and the marker (what window.py creates, in one line)."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.gallery.marking import Marker
from app.gallery.part_view import PartView
from app.gallery.strip import GalleryStrip


class GalleryActions(QObject):
    def __init__(self, window, controller) -> None:
        super().__init__(window)
        self.window = window
        self.strip = GalleryStrip(controller.data_dir)
        self.marker = Marker(controller.data_dir, window.roles.gate, parent=self)
        self.view: PartView | None = None
        self.marker.marked.connect(self.strip.set_mark)
        self.strip.opened.connect(self.open)
        window.presenter.displayed.connect(self.strip.on_result)
        controller.recipeActivated.connect(lambda recipe: self.strip.set_recipe(recipe.name))
        controller.runningChanged.connect(lambda running: running or self.strip.refresh())
        if window.recipe_name:  # the parts of the recipe named at start, before it runs
            self.strip.set_recipe(window.recipe_name)

    def open(self, record) -> PartView:
        """The enlarged view of ``record`` (one at a time: a second click replaces it)."""
        if self.view is not None:
            try:
                self.view.close()
            except RuntimeError:  # already deleted (closed by the user)
                pass
        self.view = PartView(record, self.strip.archive, self.marker,
                             self.strip.marks.get(record.id), parent=self.window)
        self.view.show()
        return self.view

    def close(self) -> None:
        if self.view is not None:
            try:
                self.view.close()
            except RuntimeError:
                pass
        self.strip.close_worker()
        self.marker.close()
