"""Numbers a user sets in the environment (``LINEINSPECTOR_*``), checked with a clear message.

``LINEINSPECTOR_THREADS=99999`` once reached ``torch.set_num_threads`` (a segfault) and ONNX
Runtime (a hang); now every count is a whole number in a sane range or a
:class:`SettingError` naming the variable. :func:`check_environment` checks them all at once
and is called at the start of ``lineinspect`` and of the window, so a bad value stops the
program with one line instead of failing later in a worker thread.
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real

THREADS_ENV = "LINEINSPECTOR_THREADS"
FRAMES_IN_FLIGHT_ENV = "LINEINSPECTOR_FRAMES_IN_FLIGHT"
PRECISION_ENV = "LINEINSPECTOR_PRECISION"
PRECISION_CHOICES = ("auto", "fp32")  # auto: a model's verified int8 companion where it has one
THREAD_CAP = 256  # allowed even on small machines; more cores than that raise the cap
MAX_FRAMES_IN_FLIGHT = 16


class SettingError(ValueError):
    """A setting (environment variable or argument) is not a usable number."""


def max_threads() -> int:
    """The most CPU threads accepted: 256, or the number of cores where there are more."""
    return max(THREAD_CAP, os.cpu_count() or 1)


def _whole(value: object, low: int, high: int, what: str) -> int:
    """``value`` as an int in [low, high]; SettingError naming ``what`` otherwise."""
    number: int | None = None
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if text.isdigit():
            number = int(text)
    elif isinstance(value, Integral) and not isinstance(value, bool):
        number = int(value)
    elif isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) \
            and float(value).is_integer():
        number = int(value)
    if number is None or not low <= number <= high:
        shown = value if isinstance(value, str) and len(value) <= 40 else str(value)[:40]
        raise SettingError(f"{what} must be a whole number from {low} to {high}, got {shown!r}")
    return number


def check_threads(value: object, what: str = "threads") -> int:
    """A CPU thread count from 1 to :func:`max_threads`."""
    return _whole(value, 1, max_threads(), what)


def _env(name: str, high: int) -> int | None:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None  # unset or empty: the automatic choice
    return _whole(raw, 1, high, name)


def env_threads() -> int | None:
    """``$LINEINSPECTOR_THREADS`` (1 .. :func:`max_threads`), None when unset or empty."""
    return _env(THREADS_ENV, max_threads())


def env_frames_in_flight() -> int | None:
    """``$LINEINSPECTOR_FRAMES_IN_FLIGHT`` (1 .. 16), None when unset or empty."""
    return _env(FRAMES_IN_FLIGHT_ENV, MAX_FRAMES_IN_FLIGHT)


def env_precision() -> str:
    """``$LINEINSPECTOR_PRECISION``: "fp32" (never the int8 companion) or "auto" (the default,
    also when unset or empty); anything else, e.g. a typo, is a SettingError, not ignored."""
    raw = os.environ.get(PRECISION_ENV, "").strip().lower()
    if not raw:
        return "auto"
    if raw not in PRECISION_CHOICES:
        shown = os.environ[PRECISION_ENV][:40]
        raise SettingError(f"{PRECISION_ENV} must be {' or '.join(PRECISION_CHOICES)}, got {shown!r}")
    return raw


def resolve_threads(threads: object = None) -> int:
    """Intra-op threads: ``threads`` when given (None or 0: automatic), else
    ``$LINEINSPECTOR_THREADS``, else every core."""
    if threads is not None and not (isinstance(threads, Integral) and threads == 0
                                    and not isinstance(threads, bool)):
        return check_threads(threads)
    return env_threads() or (os.cpu_count() or 1)


def check_environment() -> None:
    """Raise SettingError for the first ``LINEINSPECTOR_*`` setting that is not usable."""
    env_threads()
    env_frames_in_flight()
    env_precision()
    from core.io.image_header import max_image_pixels  # LINEINSPECTOR_MAX_PIXELS

    max_image_pixels()
