"""The three roles, ordered: an operator (no login) < engineer < administrator."""

from __future__ import annotations

import enum

from core.auth.errors import AuthError


class Role(enum.IntEnum):
    OPERATOR = 0
    ENGINEER = 1
    ADMINISTRATOR = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: object, field: str = "role") -> Role:
        """``value`` (a Role or its name, any case) as a Role; AuthError naming ``field``."""
        if isinstance(value, Role):
            return value
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                pass
        names = ", ".join(r.label for r in cls)
        raise AuthError(f"{field} must be one of {names}, got {value!r}")


LOGIN_ROLES = (Role.ENGINEER, Role.ADMINISTRATOR)  # the operator has no account
