"""Exceptions raised by camera sources. All derive from :class:`CameraError`."""

from __future__ import annotations


class CameraError(RuntimeError):
    """A camera operation failed (open, start, read, feature access)."""


class SourceLostError(CameraError):
    """The device went away while open or streaming; the grabber will try to reconnect."""


class FeatureError(CameraError):
    """A feature is missing, read-only, or the requested value is invalid for it."""


class UnsupportedPixelFormatError(CameraError, ValueError):
    """The camera delivers a pixel format this application cannot convert."""


class SourceSpecError(ValueError):
    """A SOURCE string (``sim:...``, a path, ``genicam:...``) cannot be understood."""
