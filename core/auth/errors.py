"""Exceptions of core.auth: each carries one line a GUI or the CLI can show as is."""


class AuthError(Exception):
    """Base: bad user input (a name, a role, a password) or an unusable users file."""


class SettingsError(AuthError):
    """station.toml's [operator] or [auth] table holds a value that cannot be used."""


class BadCredentials(AuthError):
    """Wrong name or secret (one message for both: the name is not confirmed)."""


class LockedOut(AuthError):
    """Too many failed sign-ins: ``wait_s`` seconds before the next try."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class PermissionDenied(AuthError):
    """The current role may not perform an action."""

    def __init__(self, message: str, action: str, needed: str) -> None:
        super().__init__(message)
        self.action, self.needed = action, needed
