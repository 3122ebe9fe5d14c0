"""The session controller's model commands, run in its control thread: the recipe's active
version changed (the wizard deployed one) or is made active (rollback = an earlier one).
When the recipe is being inspected, the running session switches to the model without a stop
(the line keeps its links, the camera stays open); a new camera means a fresh start."""

from __future__ import annotations

from pathlib import Path

from core.recipe import Recipe


def use_active(controller, recipe_name: str) -> None:
    try:
        if controller._running(recipe_name) is not None:
            recipe = controller.recipes.get(recipe_name)
            switch(controller, recipe, controller.recipes.active_bundle_path(recipe_name))
    finally:
        controller.recipesChanged.emit()


def activate(controller, recipe_name: str, version: int) -> None:
    recipes = controller.recipes
    try:
        s = controller._running(recipe_name)
        inferencer = None
        if s is not None:  # load before activating: a model that fails leaves all as it was
            controller.busyChanged.emit(f"Loading model v{version}")
            inferencer = s.load_model(recipes.version(recipe_name, version).bundle_path)
        recipe = recipes.activate(recipe_name, version)
        if s is not None and controller.session is s:
            switch(controller, recipe, recipes.active_bundle_path(recipe_name), inferencer)
    finally:
        controller.recipesChanged.emit()


def switch(controller, recipe: Recipe, bundle: Path | None, inferencer=None) -> None:
    """Put the recipe's active model in force in the running session (same camera), or
    start the recipe afresh when its camera changed."""
    c = controller
    s = c.session
    if bundle is None:
        raise RuntimeError(f"recipe '{recipe.name}' has no active model version")
    if c._source_for(recipe, c._start_source) != s.source_spec:
        c._do_start(recipe.name, c._start_source)
        return
    c.busyChanged.emit(f"Loading model v{recipe.active_version}")
    s.switch_model(recipe, bundle, inferencer)
    c.line.slot.update_state(model_version=recipe.active_version)
    c.history.clear()  # scores of another model are not comparable
    c.recipeActivated.emit(s.recipe)
    c.modelSwitched.emit(recipe.name, recipe.active_version)
