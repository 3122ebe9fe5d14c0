"""The unit of data that every camera source delivers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_ALLOWED_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


@dataclass(slots=True, eq=False)  # identity equality: comparing images is never meant
class Frame:
    """One image from a source.

    ``image`` is uint8 or uint16, HxW (mono) or HxWx3 (BGR). Mono10/12 are stored
    MSB-aligned in uint16 (``metadata["bit_depth"]`` keeps the sensor depth).
    ``timestamp`` is the host's ``time.monotonic()`` at receipt, ``wall_time`` the
    host's ``time.time()``; ``device_timestamp_ns`` is the camera's clock when known.
    """

    image: np.ndarray
    frame_id: int
    source_id: str
    timestamp: float = field(default_factory=time.monotonic)
    wall_time: float = field(default_factory=time.time)
    complete: bool = True
    device_timestamp_ns: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        img = self.image
        if not isinstance(img, np.ndarray):
            raise TypeError(f"Frame.image must be a numpy array, got {type(img).__name__}")
        if img.dtype not in _ALLOWED_DTYPES:
            raise ValueError(f"Frame.image dtype must be uint8 or uint16, got {img.dtype}")
        if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
            raise ValueError(f"Frame.image must be HxW or HxWx3, got shape {img.shape}")

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def channels(self) -> int:
        return 1 if self.image.ndim == 2 else 3
