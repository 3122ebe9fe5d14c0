"""Reading training checkpoints, safely.

A checkpoint is read with torch's weights-only loader: tensors, numbers and text, never
Python objects (unpickling those could run code). A file that cannot be used (a foreign or
damaged file, one holding Python objects, a checkpoint of another format) raises
:class:`CheckpointError` with one line naming it. :func:`open_checkpoint` is what a run
does with the checkpoint beside its output: resume from it, or set an unusable one aside
as ``NAME.unusable`` (never deleted: it is the user's file) and start afresh.
"""

from __future__ import annotations

import json
import math
import os
import pickle
from pathlib import Path

UNUSABLE_SUFFIX = ".unusable"
_KEYS = ("model", "optimizer", "step", "total", "preset", "seed", "history", "elapsed")


class CheckpointError(ValueError):
    """A checkpoint cannot be resumed from; the message names the file and says why."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, pickle.UnpicklingError) and "Unsupported global" in str(exc):
        return "it holds Python objects, not only tensors: not a weights-only checkpoint"
    if isinstance(exc, OSError) and not isinstance(exc, EOFError):
        return f"cannot read it: {exc.strerror or type(exc).__name__}"
    return "damaged, truncated or not a LineInspector checkpoint"


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint's contents with ``preset`` (a Preset), ``history`` and ``started_from``
    decoded; CheckpointError if it cannot be used."""
    import torch

    from core.training.presets import preset_from_dict

    path = Path(path)

    def fail(why: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {path} cannot be used ({why})")

    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # whatever a foreign file makes the loader raise, one line
        raise fail(_reason(exc)) from None
    if not isinstance(ck, dict) or any(k not in ck for k in _KEYS):
        raise fail("not a LineInspector checkpoint")
    if not isinstance(ck["model"], dict) or not all(isinstance(v, torch.Tensor) for v in ck["model"].values()) \
            or not isinstance(ck["optimizer"], dict):
        raise fail("its weights are not a table of tensors")
    step, total, elapsed = ck["step"], ck["total"], ck["elapsed"]
    if not (isinstance(step, int) and 0 <= step and (total is None or isinstance(total, int) and step <= total)) \
            or not isinstance(ck["seed"], int) \
            or not (isinstance(elapsed, (int, float)) and math.isfinite(elapsed) and elapsed >= 0):
        raise fail("its step count, seed or elapsed time is malformed")
    try:
        ck["preset"] = preset_from_dict(json.loads(ck["preset"]))
        ck["history"] = json.loads(ck["history"])
        ck["started_from"] = json.loads(ck.get("started_from") or "null")  # older ones: none
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError):
        raise fail("its preset or history is unreadable") from None
    if not isinstance(ck["history"], list):
        raise fail("its history is unreadable")
    return ck


def set_aside(path: Path) -> Path:
    """Rename ``path`` to ``NAME.unusable`` (``.unusable.1``, ... if taken); the new path."""
    for n in range(1000):
        aside = path.with_name(path.name + UNUSABLE_SUFFIX + (f".{n}" if n else ""))
        if not aside.exists():
            os.rename(path, aside)
            return aside
    raise OSError(f"too many {path.name}{UNUSABLE_SUFFIX}.* files beside it")


def open_checkpoint(path: str | os.PathLike | None, resume: bool = True) -> tuple[dict | None, str | None]:
    """(checkpoint, None) to resume from; (None, None) when there is none or ``resume`` is off;
    (None, note) when it cannot be used: it was renamed aside and ``note`` says so in one
    line, for the caller to show. CheckpointError when it cannot even be renamed."""
    if path is None or not resume or not Path(path).exists():
        return None, None
    path = Path(path)
    try:
        return load_checkpoint(path), None
    except CheckpointError as exc:
        try:
            aside = set_aside(path)
        except OSError as err:
            raise CheckpointError(f"{exc}; it cannot be set aside ({err.strerror or err}): "
                                  f"move or delete it") from None
        return None, f"{exc}; starting afresh; it was renamed to {aside}"
