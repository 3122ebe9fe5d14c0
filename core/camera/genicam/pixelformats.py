"""Conversion of GenICam (PFNC) pixel formats to the Frame convention (mono or BGR).

Bayer conversions use OpenCV's explicit four-letter codes (``COLOR_BayerRGGB2BGR``
for PFNC ``BayerRG8`` whose first row reads R G R G...). The older two-letter
OpenCV names are shifted by one pixel and easy to get wrong; never use them here.
Mono10/Mono12 (unpacked, 16-bit containers) are shifted left so that the full
uint16 range is used; ``bit_depth`` keeps the sensor depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.camera.errors import UnsupportedPixelFormatError


@dataclass(frozen=True, slots=True)
class PixelFormatSpec:
    name: str
    dtype: type  # element type of the raw buffer
    components: int  # components per pixel in the raw buffer
    bit_depth: int
    cv2_code: int | None = None  # cvtColor code producing BGR, None if no colour conversion

    @property
    def output_channels(self) -> int:
        return 1 if self.components == 1 and self.cv2_code is None else 3


PIXEL_FORMATS: dict[str, PixelFormatSpec] = {
    spec.name: spec
    for spec in (
        PixelFormatSpec("Mono8", np.uint8, 1, 8),
        PixelFormatSpec("Mono10", np.uint16, 1, 10),
        PixelFormatSpec("Mono12", np.uint16, 1, 12),
        PixelFormatSpec("Mono16", np.uint16, 1, 16),
        PixelFormatSpec("RGB8", np.uint8, 3, 8, cv2.COLOR_RGB2BGR),
        PixelFormatSpec("BGR8", np.uint8, 3, 8),
        PixelFormatSpec("RGBa8", np.uint8, 4, 8, cv2.COLOR_RGBA2BGR),
        PixelFormatSpec("BGRa8", np.uint8, 4, 8, cv2.COLOR_BGRA2BGR),
        PixelFormatSpec("BayerRG8", np.uint8, 1, 8, cv2.COLOR_BayerRGGB2BGR),
        PixelFormatSpec("BayerBG8", np.uint8, 1, 8, cv2.COLOR_BayerBGGR2BGR),
        PixelFormatSpec("BayerGB8", np.uint8, 1, 8, cv2.COLOR_BayerGBRG2BGR),
        PixelFormatSpec("BayerGR8", np.uint8, 1, 8, cv2.COLOR_BayerGRBG2BGR),
    )
}
SUPPORTED_PIXEL_FORMATS: tuple[str, ...] = tuple(PIXEL_FORMATS)
_BY_FOLDED = {name.casefold(): spec for name, spec in PIXEL_FORMATS.items()}


def pixel_format_spec(name: str) -> PixelFormatSpec:
    """Look a format up (case-insensitively); unknown formats raise a clear error."""
    spec = PIXEL_FORMATS.get(name) or _BY_FOLDED.get(str(name).casefold())
    if spec is None:
        raise UnsupportedPixelFormatError(
            f"unsupported pixel format {name!r}; supported: {', '.join(SUPPORTED_PIXEL_FORMATS)}"
        )
    return spec


def is_supported(name: str) -> bool:
    return str(name).casefold() in _BY_FOLDED


def convert(data: np.ndarray, width: int, height: int, pixel_format: str) -> np.ndarray:
    """Convert a raw buffer to a fresh HxW or HxWx3 (BGR) array that owns its memory.

    ``data`` may be flat or shaped, of the format's element type, or raw bytes (uint8)
    for 16-bit formats (little-endian). The result never aliases ``data``, so it
    stays valid after the camera buffer is re-queued.
    """
    spec = pixel_format_spec(pixel_format)
    width, height = int(width), int(height)
    flat = np.asarray(data).reshape(-1)
    if flat.dtype != spec.dtype:
        if flat.dtype == np.uint8 and spec.dtype == np.uint16:
            flat = flat.view("<u2")
        else:
            raise UnsupportedPixelFormatError(
                f"{spec.name}: expected {np.dtype(spec.dtype)} data, got {flat.dtype}"
            )
    expected = width * height * spec.components
    if flat.size < expected:
        raise ValueError(
            f"{spec.name}: buffer holds {flat.size} values, {width}x{height} needs {expected}"
        )
    shape = (height, width) if spec.components == 1 else (height, width, spec.components)
    raw = flat[:expected].reshape(shape)
    if spec.cv2_code is not None:
        return cv2.cvtColor(np.ascontiguousarray(raw), spec.cv2_code)
    if spec.dtype == np.uint16 and spec.bit_depth < 16:
        return np.left_shift(raw, 16 - spec.bit_depth, dtype=np.uint16)
    return raw.copy()
