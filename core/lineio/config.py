"""The station's line configuration, ``<data_dir>/line_io.toml``: the mapping (what the line
is told for each verdict, the deadline and its fail-safe, the heartbeat period) and the
transports. Every field is checked on load; a message names the file and the field, e.g.
``/data/line_io.toml: mapping.deadline_ms must be an integer 0-600000 (0: no deadline), got 'x'``.
A transport's own options are checked by its ``build()`` (core.lineio.registry).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_text
from core.lineio.registry import KINDS, LineConfigError
from core.recipe.line_mapping import DEFAULTS, check_field, check_overrides

FILE_NAME = "line_io.toml"
MAX_TRANSPORTS = 32


@dataclass(frozen=True)
class Mapping:
    review_as: str = DEFAULTS["review_as"]  # "ok" | "ng" | "review"
    deadline_ms: int = DEFAULTS["deadline_ms"]  # 0: none; a later result is never sent as OK
    fail_safe: str = DEFAULTS["fail_safe"]  # "reject" (NG) | "error" (ERROR)
    heartbeat_ms: int = DEFAULTS["heartbeat_ms"]

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            try:
                check_field(f.name, getattr(self, f.name))
            except ValueError as exc:
                raise LineConfigError(f"line_io mapping: {exc}") from None

    @classmethod
    def from_dict(cls, data: object, where: str = "line_io") -> Mapping:
        if not isinstance(data, dict):
            raise LineConfigError(f"{where}: [mapping] must be a table, got {str(data)[:40]!r}")
        for key in data:
            if key not in DEFAULTS:
                raise LineConfigError(f"{where}: unknown key mapping.{str(key)[:40]!r} "
                                      f"(expected one of: {', '.join(DEFAULTS)})")
        try:
            values = {k: check_field(k, v) for k, v in data.items()}
        except ValueError as exc:
            raise LineConfigError(f"{where}: mapping.{exc}") from None
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def merged(self, recipe_overrides: dict | None) -> Mapping:
        """This mapping with a recipe's ``[line_io]`` table over it (None / empty: as is)."""
        if not recipe_overrides:
            return self
        try:
            return dataclasses.replace(self, **check_overrides(recipe_overrides))
        except ValueError as exc:
            raise LineConfigError(f"recipe line_io: {exc}") from None


@dataclass(frozen=True)
class TransportConfig:
    kind: str  # one of registry.KINDS
    options: dict[str, Any] = field(default_factory=dict)  # the transport's own (its build() checks them)
    enabled: bool = True

    @classmethod
    def from_dict(cls, data: object, where: str) -> TransportConfig:
        if not isinstance(data, dict):
            raise LineConfigError(f"{where} must be a table, got {str(data)[:40]!r}")
        options = dict(data)
        kind = options.pop("kind", None)
        if kind is None:
            raise LineConfigError(f"{where}: missing key kind (one of {', '.join(KINDS)})")
        if kind not in KINDS:
            raise LineConfigError(f"{where}: unknown kind {str(kind)[:40]!r} (use one of {', '.join(KINDS)})")
        enabled = options.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise LineConfigError(f"{where} ({kind}): enabled must be true or false, got {str(enabled)[:40]!r}")
        return cls(kind, options, enabled)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "enabled": self.enabled, **self.options}


@dataclass(frozen=True)
class LineConfig:
    mapping: Mapping = field(default_factory=Mapping)
    transports: tuple[TransportConfig, ...] = ()

    @classmethod
    def from_dict(cls, data: object, where: str = "line_io") -> LineConfig:
        """The configuration of a dict in line_io.toml's shape ([mapping], [[transport]])."""
        if not isinstance(data, dict):
            raise LineConfigError(f"{where}: must be a table, got {str(data)[:40]!r}")
        for key in data:
            if key not in ("mapping", "transport"):
                raise LineConfigError(f"{where}: unknown key {str(key)[:40]!r} (expected mapping, transport)")
        tables = data.get("transport", [])
        if not isinstance(tables, list) or len(tables) > MAX_TRANSPORTS:
            raise LineConfigError(f"{where}: transport must be an array of at most {MAX_TRANSPORTS} "
                                  f"[[transport]] tables")
        transports = tuple(TransportConfig.from_dict(t, f"{where}: transport {i}")
                           for i, t in enumerate(tables, start=1))
        return cls(Mapping.from_dict(data.get("mapping", {}), where), transports)

    def to_dict(self) -> dict[str, Any]:
        return {"mapping": self.mapping.to_dict(), "transport": [t.to_dict() for t in self.transports]}


def config_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / FILE_NAME


def load_line_config(data_dir: str | Path, path: str | Path | None = None) -> LineConfig:
    """``<data_dir>/line_io.toml`` (or ``path``); no file: the defaults and no transport."""
    p = Path(path) if path is not None else config_path(data_dir)
    if path is None and not p.exists():
        return LineConfig()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LineConfigError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LineConfigError(f"{p}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise LineConfigError(f"{p}: not valid TOML ({exc})") from None
    return LineConfig.from_dict(data, str(p))


def save_line_config(data_dir: str | Path, config: LineConfig) -> Path:
    """Write ``config`` to ``<data_dir>/line_io.toml`` atomically (a reader never sees half)."""
    import tomli_w

    try:
        text = tomli_w.dumps(config.to_dict())
    except (TypeError, ValueError) as exc:  # an option value TOML cannot hold
        raise LineConfigError(f"line_io: cannot be written as TOML ({exc})") from None
    return atomic_write_text(config_path(data_dir), text)
