"""The settings the recipe settings dialog edits, as flat ``section.key`` names (Qt-free):
read from a recipe, and written into one, only those that changed, through the recipe's own
validation (:meth:`Recipe.validated`), so the dialog never checks a value a second way."""

from __future__ import annotations

import dataclasses

from core.recipe import Recipe
from core.recipe.alarm_rules import DEFAULT, KEYS as ALARM_KEYS

TRAINING_KEYS = ("model", "preset", "anomalies")
Settings = dict[str, object]


def settings_of(recipe: Recipe) -> Settings:
    """Every editable setting of ``recipe``, e.g. ``{"alarms.consecutive_ng": None,
    "false_reject_target": 0.01, "training.model": "draem", ...}`` (None: a rule that is off)."""
    rules = recipe.alarms or DEFAULT
    out: Settings = {f"alarms.{k}": getattr(rules, k) for k in ALARM_KEYS}
    out["false_reject_target"] = recipe.false_reject_target
    out.update({f"training.{k}": getattr(recipe.training, k) for k in TRAINING_KEYS})
    return out


def changed_keys(before: Settings, after: Settings) -> list[str]:
    return [k for k, v in after.items() if before.get(k) != v]


def with_settings(recipe: Recipe, values: Settings) -> Recipe:
    """A validated copy of ``recipe`` with ``values`` (some of :func:`settings_of`'s) set;
    RecipeError naming the recipe and the field when one is not valid."""
    parts: dict[str, dict] = {"alarms": {}, "training": {}}
    fields = {}
    for key, value in values.items():
        section, _, name = key.partition(".")
        if name:
            parts[section][name] = value
        else:
            fields[key] = value
    if parts["alarms"]:
        fields["alarms"] = dataclasses.replace(recipe.alarms or DEFAULT, **parts["alarms"])
    if parts["training"]:
        fields["training"] = dataclasses.replace(recipe.training, **parts["training"])
    return dataclasses.replace(recipe, **fields).validated()


def describe_wizard_settings(recipe: Recipe) -> list[tuple[str, str]]:
    """(what, value) of the settings the training wizard sets, for reading only."""
    cam = recipe.camera
    settings = ", ".join(f"{k} = {v}" for k, v in cam.settings.items()) or "none"
    roi = recipe.roi
    p = recipe.preprocessing
    steps = [f"rotate {p.rotate}°"] if p.rotate else []
    steps += [what for what, on in (("flip horizontally", p.flip_horizontal),
                                    ("flip vertically", p.flip_vertical),
                                    ("grayscale", p.grayscale)) if on]
    t = recipe.thresholds
    return [("Camera", cam.source or "(the station's default)"),
            ("Camera settings", settings),
            ("Region of interest", "the whole frame" if roi is None
             else f"x {roi.x}, y {roi.y}, {roi.w} × {roi.h} pixels"),
            ("Preprocessing", ", ".join(steps) or "none"),
            ("Limits", "not calibrated yet" if t is None else
             f"OK < {t.ok_limit:.4g}, NG ≥ {t.ng_limit:.4g} (the thresholds panel)")]


def _shown(value: object) -> str:
    if value is None:
        return "off"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe_changes(old: Settings, new: Settings) -> str:
    """``"alarms.consecutive_ng off → 3, false_reject_target 0.01 → 0.02"``."""
    return ", ".join(f"{k} {_shown(old.get(k))} → {_shown(v)}" for k, v in new.items())
