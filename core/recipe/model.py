"""The recipe data model (one inspected part) and its validation.

A recipe converts to and from a plain dict that is written as TOML. ``Recipe.from_dict``
checks every field and raises :class:`RecipeError` naming the recipe and the field, e.g.
``recipe 'bottle': thresholds.ok_limit must be a number, got 'abc'``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from core.recipe.alarm_rules import AlarmRules, check_alarm_rules
from core.recipe.errors import RecipeError
from core.recipe.line_mapping import check_overrides
from core.recipe.thresholds import KEYS as THRESHOLD_KEYS
from core.recipe.thresholds import Thresholds, Verdict

FORMAT_VERSION = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SettingValue = str | int | float | bool
MAX_STACK = 10_000
MAX_PIXELS = 100_000  # no camera frame is wider or taller
#: the false-reject target (a fraction of good parts) lies strictly between these: 0 or 1
#: would calibrate nothing (the window's recipe settings offer the same range)
FALSE_REJECT_RANGE = (0.0, 1.0)


def _shown(key: str) -> str:
    """A key as it can be printed on one line: itself, or quoted when it has odd characters."""
    return key if key.isprintable() and key.strip() == key else repr(key)


def check_name(name: object) -> str:
    """Return ``name`` if it is a valid recipe name (it becomes a folder name)."""
    # fullmatch: NAME_RE.match would let a trailing newline through ("$" matches before it)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
        raise RecipeError(f"invalid recipe name {name!r}: use 1-64 letters, digits, '_', '-' "
                          f"or '.', starting with a letter or digit")
    return name


@dataclass
class CameraConfig:
    """Camera source (e.g. ``genicam:SERIAL`` or a folder of images) and GenICam settings."""

    source: str = ""
    settings: dict[str, SettingValue] = field(default_factory=dict)


@dataclass
class Roi:
    """Region of interest in pixels of the (preprocessed) frame."""

    x: int
    y: int
    w: int
    h: int


@dataclass
class Preprocessing:
    """Applied to each frame before the ROI crop: rotate (clockwise degrees), flips, grayscale."""

    rotate: int = 0
    flip_horizontal: bool = False
    flip_vertical: bool = False
    grayscale: bool = False


ANOMALY_CHOICES = ("defects", "paper")  # core.synth.simulator.RECIPES (the floor does not import synth)
MODEL_CHOICES = ("draem", "dsr")  # the bundle's meta["model"] kinds


@dataclass
class TrainingConfig:
    """How this part's models are trained: the model ("draem" or "dsr"), its preset, and
    DRÆM's synthetic anomalies ("defects": defect-like kinds beside the paper's; "paper":
    Perlin x texture only; DSR makes its own in feature space)."""

    preset: str = "fast"
    anomalies: str = "defects"
    model: str = "draem"


@dataclass
class Recipe:
    name: str
    camera: CameraConfig = field(default_factory=CameraConfig)
    roi: Roi | None = None
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    thresholds: Thresholds | None = None  # None until a model is calibrated / activated
    false_reject_target: float = 0.01
    active_version: int | None = None
    training: TrainingConfig = field(default_factory=TrainingConfig)
    # versions activated before, oldest first, the active one last (for rollback). Written in
    # the same file as active_version so that no crash can leave the two disagreeing; None in
    # recipes saved before it existed (the store then reads the old activations.json stack).
    activation_stack: list[int] | None = None
    # the station's line mapping overridden for this part (review_as, deadline_ms, fail_safe;
    # see core.lineio.config.Mapping.merged); None: the station's mapping as it is
    line_io: dict[str, Any] | None = None
    # the alarm rules of this part ([alarms]); None: core.recipe.alarm_rules.DEFAULT
    alarms: AlarmRules | None = None

    def verdict(self, score: float) -> Verdict:
        """Verdict for an image score under this recipe's thresholds."""
        if self.thresholds is None:
            raise RecipeError(f"recipe '{self.name}': no thresholds set (activate a model first)")
        return self.thresholds.verdict(score)

    def to_dict(self) -> dict[str, Any]:
        """TOML-ready dict (fields that are None are left out)."""
        out: dict[str, Any] = {"format_version": FORMAT_VERSION, "name": self.name}
        if self.active_version is not None:
            out["active_version"] = self.active_version
        if self.activation_stack is not None:
            out["activation_stack"] = list(self.activation_stack)
        out["false_reject_target"] = self.false_reject_target
        out["camera"] = {"source": self.camera.source, "settings": dict(self.camera.settings)}
        if self.roi is not None:
            out["roi"] = {"x": self.roi.x, "y": self.roi.y, "w": self.roi.w, "h": self.roi.h}
        p = self.preprocessing
        out["preprocessing"] = {"rotate": p.rotate, "flip_horizontal": p.flip_horizontal,
                                "flip_vertical": p.flip_vertical, "grayscale": p.grayscale}
        if self.thresholds is not None:
            out["thresholds"] = self.thresholds.to_dict()
        out["training"] = {"model": self.training.model, "preset": self.training.preset,
                           "anomalies": self.training.anomalies}
        if self.line_io:
            out["line_io"] = dict(self.line_io)
        if self.alarms is not None:
            out["alarms"] = self.alarms.to_dict()
        return out

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> Recipe:
        """Build and validate a recipe; ``name`` is the folder name it was loaded from."""
        return _Parser(name).recipe(data)

    def validated(self) -> Recipe:
        """Return a validated copy (round trip through the dict form)."""
        return Recipe.from_dict(self.name, self.to_dict())


class _Parser:
    """Field-by-field validation; every message names the recipe and the dotted field."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, msg: str) -> RecipeError:
        return RecipeError(f"recipe '{self.name}': {msg}")

    def table(self, data: dict, key: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
              ) -> dict:
        value = data.get(key, {}) if key else data
        if not isinstance(value, dict):
            raise self.fail(f"{key} must be a table, got {value!r}")
        prefix = f"{key}." if key else ""
        for k in value:
            if k not in allowed:
                raise self.fail(f"unknown key {prefix}{_shown(k)} "
                                f"(expected one of: {', '.join(allowed)})")
        for k in required:
            if k not in value:
                raise self.fail(f"missing key {prefix}{k}")
        return value

    def number(self, value: object, where: str, *, finite: bool = True) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{where} must be a number, got {value!r}")
        if finite and not math.isfinite(value):
            raise self.fail(f"{where} must be a finite number, got {value!r}")
        return float(value)

    def integer(self, value: object, where: str, minimum: int | None = None,
                maximum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{where} must be an integer, got {str(value)[:40]!r}")
        if minimum is not None and value < minimum:
            raise self.fail(f"{where} must be >= {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            raise self.fail(f"{where} must be <= {maximum}, got {value!r}")
        return value

    def boolean(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"{where} must be true or false, got {value!r}")
        return value

    def recipe(self, data: dict[str, Any]) -> Recipe:
        top = self.table(data, "", ("format_version", "name", "active_version",
                                    "activation_stack", "false_reject_target", "camera", "roi",
                                    "preprocessing", "thresholds", "training", "line_io",
                                    "alarms"))
        fmt = self.integer(top.get("format_version", FORMAT_VERSION), "format_version", 1)
        if fmt > FORMAT_VERSION:
            raise self.fail(f"format_version {fmt} is newer than this software supports "
                            f"({FORMAT_VERSION}); update LineInspector")
        stored_name = top.get("name", self.name)
        if stored_name != self.name:
            raise self.fail(f"name {stored_name!r} does not match its folder name '{self.name}'")
        active = top.get("active_version")
        if active is not None:
            active = self.integer(active, "active_version", 1)
        frt = self.number(top.get("false_reject_target", 0.01), "false_reject_target")
        lo, hi = FALSE_REJECT_RANGE
        if not lo < frt < hi:
            raise self.fail(f"false_reject_target must be between {lo:g} and {hi:g} (exclusive), "
                            f"got {frt}")
        return Recipe(name=check_name(self.name), camera=self.camera(top),
                      roi=self.roi(top), preprocessing=self.preprocessing(top),
                      thresholds=self.thresholds(top), false_reject_target=frt,
                      active_version=active, training=self.training(top),
                      activation_stack=self.stack(top), line_io=self.line_io(top),
                      alarms=self.alarms(top))

    def alarms(self, top: dict) -> AlarmRules | None:
        if "alarms" not in top:
            return None
        try:
            return check_alarm_rules(top["alarms"])
        except ValueError as exc:
            raise self.fail(str(exc)) from None

    def line_io(self, top: dict) -> dict | None:
        if "line_io" not in top:
            return None
        try:
            return check_overrides(top["line_io"]) or None
        except ValueError as exc:
            raise self.fail(f"line_io: {exc}") from None

    def stack(self, top: dict) -> list[int] | None:
        if "activation_stack" not in top:
            return None
        stack = top["activation_stack"]
        if not isinstance(stack, list) or len(stack) > MAX_STACK:
            raise self.fail(f"activation_stack must be a list of at most {MAX_STACK} version "
                            f"numbers, got {str(stack)[:60]!r}")
        out = [self.integer(v, "activation_stack[]", 1) for v in stack]
        if len(set(out)) != len(out):
            raise self.fail(f"activation_stack lists a version twice: {out}")
        return out

    def training(self, top: dict) -> TrainingConfig:
        t = self.table(top, "training", ("model", "preset", "anomalies"))
        model = t.get("model", "draem")  # recipes saved before DSR existed train DRÆM
        if model not in MODEL_CHOICES:
            raise self.fail(f"training.model must be one of {', '.join(MODEL_CHOICES)}, "
                            f"got {str(model)[:40]!r}")
        preset = t.get("preset", "fast")
        if not isinstance(preset, str) or not re.match(r"^[a-z][a-z0-9_-]{0,31}$", preset):
            raise self.fail(f"training.preset must be a preset name, got {preset!r}")
        anomalies = t.get("anomalies", "defects")
        if anomalies not in ANOMALY_CHOICES:
            raise self.fail(f"training.anomalies must be one of {', '.join(ANOMALY_CHOICES)}, "
                            f"got {anomalies!r}")
        return TrainingConfig(preset, anomalies, model)

    def camera(self, top: dict) -> CameraConfig:
        cam = self.table(top, "camera", ("source", "settings"))
        source = cam.get("source", "")
        if not isinstance(source, str):
            raise self.fail(f"camera.source must be a string, got {source!r}")
        settings = cam.get("settings", {})
        if not isinstance(settings, dict):
            raise self.fail(f"camera.settings must be a table, got {settings!r}")
        for key, value in settings.items():
            if not isinstance(value, (str, int, float, bool)):
                raise self.fail(f"camera.settings.{_shown(key)} must be a string, number or "
                                f"boolean, got {str(value)[:60]!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise self.fail(f"camera.settings.{_shown(key)} must be a finite number, "
                                f"got {value!r}")
        return CameraConfig(source=source, settings=dict(settings))

    def roi(self, top: dict) -> Roi | None:
        if "roi" not in top:
            return None
        roi = self.table(top, "roi", ("x", "y", "w", "h"), required=("x", "y", "w", "h"))
        x, y = (self.integer(roi[k], f"roi.{k}", 0, MAX_PIXELS) for k in ("x", "y"))
        w, h = (self.integer(roi[k], f"roi.{k}", 1, MAX_PIXELS) for k in ("w", "h"))
        return Roi(x, y, w, h)

    def preprocessing(self, top: dict) -> Preprocessing:
        pre = self.table(top, "preprocessing",
                         ("rotate", "flip_horizontal", "flip_vertical", "grayscale"))
        rotate = self.integer(pre.get("rotate", 0), "preprocessing.rotate")
        if rotate not in (0, 90, 180, 270):
            raise self.fail(f"preprocessing.rotate must be 0, 90, 180 or 270, got {rotate}")
        return Preprocessing(
            rotate=rotate,
            **{k: self.boolean(pre.get(k, False), f"preprocessing.{k}")
               for k in ("flip_horizontal", "flip_vertical", "grayscale")})

    def thresholds(self, top: dict) -> Thresholds | None:
        if "thresholds" not in top:
            return None
        t = self.table(top, "thresholds", THRESHOLD_KEYS, required=THRESHOLD_KEYS)
        try:
            return Thresholds.from_mapping(t)
        except ValueError as exc:
            raise self.fail(str(exc)) from None
