"""``models/activations.json``: the append-only log of who activated which model version.

Each entry: ``version``, ``at``, ``by``, ``action`` (activate / rollback / delete /
interrupted) and, since issue 13, ``active`` and ``stack``: the active version and the
activation stack right after it. The stack itself now lives in ``recipe.toml`` beside
``active_version`` (one atomic write); files written before that also hold a ``stack``
list, read only to carry old recipes over. A damaged file is refused with a VersionError
(appending to it would throw its history away).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.store.safe_read import read_regular_text

__all__ = ["MAX_LOG_BYTES", "append_entry", "read_activations", "write_activations"]

MAX_LOG_BYTES = 64 << 20
_TEXT_KEYS = ("at", "by", "action")


def _is_version(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _check_entry(i: int, e: Any) -> dict:
    if not isinstance(e, dict):
        raise ValueError(f"log[{i}] must be an object, got {type(e).__name__}")
    if not _is_version(e.get("version")):
        raise ValueError(f"log[{i}].version must be a version number, got {e.get('version')!r:.40}")
    for key in _TEXT_KEYS:
        if not isinstance(e.get(key), str):
            raise ValueError(f"log[{i}].{key} must be text, got {e.get(key)!r:.40}")
    if "stack" in e and not (isinstance(e["stack"], list) and all(map(_is_version, e["stack"]))):
        raise ValueError(f"log[{i}].stack must be a list of version numbers")
    if e.get("active") is not None and not _is_version(e["active"]):
        raise ValueError(f"log[{i}].active must be a version number or null")
    return e


def read_activations(path: Path) -> tuple[list[int] | None, list[dict]]:
    """(legacy stack or None, log) of ``path``; nothing yet: ``(None, [])``. ValueError
    (the reason, without the path) when the file is damaged."""
    try:
        text = read_regular_text(path, MAX_LOG_BYTES)
    except FileNotFoundError:
        return None, []
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    stack = data.get("stack")
    if stack is not None and not (isinstance(stack, list) and all(map(_is_version, stack))):
        raise ValueError(f"stack must be a list of version numbers, got {str(stack)[:40]!r}")
    log = data.get("log", [])
    if not isinstance(log, list):
        raise ValueError(f"log must be a list, got {type(log).__name__}")
    return (None if stack is None else list(dict.fromkeys(stack)),
            [_check_entry(i, e) for i, e in enumerate(log)])


def append_entry(path: Path, entry: dict, before: tuple[int | None, list[int]]) -> None:
    """Append ``entry`` to the log at ``path`` (the caller holds the recipe's lock).

    ``before`` is (active version, stack) as the recipe file had them before this change.
    When they differ from what the last entry left, a change went unlogged (the program was
    stopped between writing the recipe and the log, or the file was edited by hand): an
    ``unlogged`` entry records the state found, so the log never silently skips one.
    """
    _, log = read_activations(path)
    active, stack = before
    if log and "stack" in log[-1] and active is not None \
            and (log[-1].get("active"), log[-1]["stack"]) != (active, list(stack)):
        log.append({"version": active, "at": entry["at"], "by": "unknown", "action": "unlogged",
                    "active": active, "stack": list(stack),
                    "note": "found active without a log entry (an interrupted change or a "
                            "hand edit of recipe.toml)"})
    log.append(entry)
    write_activations(path, log)


def write_activations(path: Path, log: list[dict]) -> None:
    """Replace ``path`` atomically with ``log`` (the caller holds the recipe's lock)."""
    from core.atomic import atomic_write_text

    atomic_write_text(path, json.dumps({"log": log}, indent=2) + "\n")
