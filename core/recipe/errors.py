"""The one error of the recipe floor (a ValueError, so callers can catch bad input broadly)."""

from __future__ import annotations


class RecipeError(ValueError):
    """A recipe is missing, malformed or cannot be saved; the message names the recipe and
    the field, e.g. ``recipe 'bottle': thresholds.ok_limit must be a number, got 'abc'``."""
