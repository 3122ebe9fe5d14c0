"""One recipe's ``recipe.toml``: read and validate it, or write it atomically, keeping the
previous file as ``recipe.toml.prev`` (the caller, :class:`core.store.RecipeStore`, holds the
recipe's lock)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w

from core.atomic import atomic_write_bytes, atomic_write_text
from core.recipe import Recipe, RecipeError
from core.store.safe_read import UnsafeFileError, read_regular_text

RECIPE_FILE = "recipe.toml"
PREV_SUFFIX = ".prev"
MAX_RECIPE_BYTES = 1 << 20


def read_recipe(path: Path, name: str) -> Recipe:
    """Load and validate recipe ``name`` from ``path``; RecipeError naming what is wrong."""
    try:
        data = tomllib.loads(read_regular_text(path, MAX_RECIPE_BYTES))
    except FileNotFoundError:
        raise RecipeError(f"recipe '{name}': {path} not found") from None
    except UnsafeFileError as exc:  # a pipe or device would hang the read; a huge file
        raise RecipeError(f"recipe '{name}': {exc}") from None
    except RecursionError:
        raise RecipeError(f"recipe '{name}': {path} is not valid TOML (nested too deeply)"
                          ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RecipeError(f"recipe '{name}': {path} is not valid TOML ({exc})") from None
    except OSError as exc:
        raise RecipeError(f"recipe '{name}': cannot read {path} ({exc})") from None
    if not data:  # every saved recipe has keys: an empty one is damaged, not "defaults"
        raise RecipeError(f"recipe '{name}': {path} is empty (damaged?); restore it from "
                          f"{path.name}.prev beside it or create the recipe again")
    return Recipe.from_dict(name, data)


def write_recipe(path: Path, recipe: Recipe) -> Recipe:
    """Write ``recipe`` (validated by the caller) as is to ``path``; returns it."""
    data = tomli_w.dumps(recipe.to_dict())
    if path.is_file():
        atomic_write_bytes(path.with_name(RECIPE_FILE + PREV_SUFFIX), path.read_bytes())
    atomic_write_text(path, data)
    return recipe
