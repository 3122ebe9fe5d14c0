"""Checking a model version's ``version.json`` before it is trusted.

Every field is checked for its type (and the calibrated thresholds for their range), so a
damaged or hand-edited file is reported as corrupt in one line instead of failing later
somewhere else. Keys this software does not know are ignored (a newer release may add some).
"""

from __future__ import annotations

import re
from typing import Any

from core.recipe import Thresholds

__all__ = ["MAX_INFO_BYTES", "parse_version_info"]

MAX_INFO_BYTES = 4 << 20
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_OPTIONAL_TEXT = ("trained_at", "trained_from", "preset", "software_version", "deleted_at")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_version_info(data: Any, version: int) -> dict[str, Any]:
    """The fields of :class:`~core.store.versions.ModelVersion` (without ``bundle_path``)
    read from ``data``; ValueError naming the first bad field."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    out: dict[str, Any] = {}
    number = data.get("version")
    if not isinstance(number, int) or isinstance(number, bool) or number != version:
        raise ValueError(f"version must be {version} (its folder's number), got {_short(number)}")
    out["version"] = number
    for key in ("deployed_at", "deployed_by"):
        if not isinstance(data.get(key), str):
            raise ValueError(f"{key} must be text, got {_short(data.get(key))}")
        out[key] = data[key]
    for key in _OPTIONAL_TEXT:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key} must be text or null, got {_short(value)}")
        out[key] = value
    validation = data.get("validation", {})
    if not isinstance(validation, dict):
        raise ValueError(f"validation must be an object, got {_short(validation)}")
    out["validation"] = validation
    out["bundle_thresholds"] = _thresholds(data.get("bundle_thresholds"))
    sha = data.get("sha256", "")
    if not isinstance(sha, str) or (sha and not _SHA_RE.fullmatch(sha)):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {_short(sha)}")
    out["sha256"] = sha
    source = data.get("source_path", "")
    if not isinstance(source, str):
        raise ValueError(f"source_path must be text, got {_short(source)}")
    out["source_path"] = source
    deleted = data.get("deleted", False)
    if not isinstance(deleted, bool):
        raise ValueError(f"deleted must be true or false, got {_short(deleted)}")
    out["deleted"] = deleted
    return out


def _thresholds(t: Any) -> Thresholds | None:
    return None if t is None else Thresholds.from_mapping(t, "bundle_thresholds")
