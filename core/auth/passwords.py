"""Password and PIN hashing with scrypt (hashlib, memory-hard), checked rules for secrets.

Each hash is stored with its own random salt and its scrypt parameters, so the cost can be
raised later: :func:`needs_rehash` tells the user store to re-hash at the next good sign-in.
Comparison is constant-time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from core.auth.errors import AuthError

PIN_MIN = 4
PASSWORD_MIN = 8
SECRET_MAX = 256  # longer input is refused rather than hashed (cost, paste accidents)
SALT_BYTES = 16
SCHEME = "scrypt"


@dataclass(frozen=True)
class ScryptParams:
    """Cost: n (power of 2) x r x 128 bytes of memory; the default takes ~16 MiB."""

    n: int = 2 ** 14
    r: int = 8
    p: int = 1
    dklen: int = 32

    def check(self) -> ScryptParams:
        ok = (all(isinstance(v, int) and not isinstance(v, bool) for v in asdict(self).values())
              and 2 <= self.n <= 2 ** 20 and self.n & (self.n - 1) == 0
              and 1 <= self.r <= 32 and 1 <= self.p <= 16 and 16 <= self.dklen <= 64)
        if not ok:  # a hand-edited file must not make a sign-in take gigabytes or hang
            raise AuthError(f"scrypt parameters out of range: {asdict(self)}")
        return self

    @property
    def maxmem(self) -> int:
        return 128 * self.r * self.n * (self.p + 1) + 2 ** 20


DEFAULT_PARAMS = ScryptParams()


def secret_kind(secret: str) -> str:
    """"pin" for digits only, else "password"."""
    return "pin" if secret.isdigit() else "password"


def check_secret(secret: object, field: str = "password") -> str:
    """The secret if it may be used; AuthError naming ``field`` and the rule otherwise."""
    if not isinstance(secret, str) or not secret:
        raise AuthError(f"{field} must not be empty")
    if len(secret) > SECRET_MAX:
        raise AuthError(f"{field} is too long ({len(secret)} characters, at most {SECRET_MAX})")
    if any(ord(c) < 32 or ord(c) == 127 for c in secret):
        raise AuthError(f"{field} must not contain control characters (newline, tab...)")
    if secret.isdigit():
        if len(secret) < PIN_MIN:
            raise AuthError(f"{field}: a PIN needs at least {PIN_MIN} digits, got {len(secret)}")
    elif len(secret) < PASSWORD_MIN:
        raise AuthError(f"{field}: a password needs at least {PASSWORD_MIN} characters "
                        f"(or use a PIN of {PIN_MIN}+ digits), got {len(secret)}")
    return secret


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(secret: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=params.n, r=params.r,
                          p=params.p, dklen=params.dklen, maxmem=params.maxmem)


def hash_secret(secret: str, params: ScryptParams = DEFAULT_PARAMS) -> dict[str, Any]:
    """A JSON-ready record: scheme, parameters, salt and hash (base64)."""
    check_secret(secret)
    params.check()
    salt = secrets.token_bytes(SALT_BYTES)
    return {"scheme": SCHEME, **asdict(params), "salt": _b64(salt),
            "hash": _b64(_derive(secret, salt, params)), "kind": secret_kind(secret)}


def _params_of(record: dict[str, Any]) -> ScryptParams:
    try:
        return ScryptParams(n=record["n"], r=record["r"], p=record["p"],
                            dklen=record["dklen"]).check()
    except (KeyError, TypeError):
        raise AuthError("password record lacks its scrypt parameters") from None


def verify_secret(secret: str, record: dict[str, Any]) -> bool:
    """True when ``secret`` matches the stored record (constant-time comparison)."""
    scheme = record.get("scheme") if isinstance(record, dict) else None
    if scheme != SCHEME:
        raise AuthError(f"unknown password scheme {scheme!r} (expected {SCHEME!r})")
    params = _params_of(record)
    try:
        salt = base64.b64decode(record["salt"], validate=True)
        expected = base64.b64decode(record["hash"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise AuthError("password record has a bad salt or hash") from None
    if not isinstance(secret, str) or len(secret) > SECRET_MAX:
        return False
    return hmac.compare_digest(_derive(secret, salt, params), expected)


def needs_rehash(record: dict[str, Any], params: ScryptParams = DEFAULT_PARAMS) -> bool:
    """True when the record was hashed with weaker parameters than ``params``."""
    try:
        old = _params_of(record)
    except AuthError:
        return True
    return (old.n < params.n or old.r < params.r or old.p < params.p
            or old.dklen < params.dklen)


def dummy_verify(secret: str, params: ScryptParams = DEFAULT_PARAMS) -> None:
    """Spend the time of one check, so that an unknown name answers as slowly as a known."""
    _derive(secret[:SECRET_MAX] if isinstance(secret, str) else "", b"\0" * SALT_BYTES, params)
