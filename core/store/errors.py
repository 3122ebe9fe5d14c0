"""Exceptions of the store. All derive from ValueError so callers can catch bad input broadly;
a recipe that is missing or malformed raises :class:`core.recipe.RecipeError` (a ValueError
too, not a StoreError)."""

from __future__ import annotations


class StoreError(ValueError):
    """Base class: the message is meant for the user and names the file, field or value."""


class VersionError(StoreError):
    """A model version cannot be added, activated, rolled back or deleted."""


class ResultsError(StoreError):
    """The results database cannot be opened, written or queried."""
