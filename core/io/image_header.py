"""Image dimensions read from a file's header, before anything is decoded.

A few dozen bytes can claim a 65535 x 65535 image; decoding such a file costs gigabytes (or
makes OpenCV raise). :func:`header_size` reads width and height from PNG (IHDR), JPEG (SOFn),
BMP (DIB header) and TIFF (first IFD) headers in pure Python, and :func:`max_image_pixels`
is the configurable limit (``LINEINSPECTOR_MAX_PIXELS``) that :func:`core.io.images.read_image`
checks them against.
"""

from __future__ import annotations

import os

from core.settings_env import SettingError

MAX_PIXELS_ENV = "LINEINSPECTOR_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 100_000_000  # 100 megapixels: 10000 x 10000; about 300 MB as BGR uint8
HARD_MAX_PIXELS = 1 << 30  # OpenCV's own decoder limit; nothing above it can be read anyway

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
_TIFF_LE, _TIFF_BE = b"II*\x00", b"MM\x00*"
_BIGTIFF_LE, _BIGTIFF_BE = b"II+\x00", b"MM\x00+"
# SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageHeaderError(ValueError):
    """The header of a recognised format is damaged; ``str()`` says what is wrong."""


def max_image_pixels() -> int:
    """The pixel limit: ``$LINEINSPECTOR_MAX_PIXELS`` (a whole number 1 .. 2**30) or 100 MP.

    Raises :class:`core.settings_env.SettingError` (a ValueError) naming the variable for a
    value that is not such a number; ``lineinspect`` and the window check it at start.
    """
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_MAX_PIXELS
    if not raw.isdigit() or not 1 <= int(raw) <= HARD_MAX_PIXELS:
        raise SettingError(
            f"{MAX_PIXELS_ENV} must be a whole number of pixels from 1 to {HARD_MAX_PIXELS}, "
            f"got {os.environ.get(MAX_PIXELS_ENV)!r}"
        )
    return int(raw)


def image_format(data: bytes) -> str | None:
    """'png', 'jpeg', 'bmp' or 'tiff' by the file's signature, else None."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(JPEG_SOI):
        return "jpeg"
    if data.startswith(b"BM"):
        return "bmp"
    if data.startswith((_TIFF_LE, _TIFF_BE, _BIGTIFF_LE, _BIGTIFF_BE)):
        return "tiff"
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` claimed by the header, or None for an unrecognised format.

    Raises :class:`ImageHeaderError` when a recognised header is cut short or malformed.
    """
    kind = image_format(data)
    if kind is None:
        return None
    return {"png": _png, "jpeg": _jpeg, "bmp": _bmp, "tiff": _tiff}[kind](data)


def _png(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageHeaderError("PNG header damaged (no IHDR chunk)")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _jpeg(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageHeaderError("JPEG header damaged (bad marker)")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # standalone markers
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            break  # end of image / start of scan before any frame header
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            raise ImageHeaderError("JPEG header damaged (bad segment length)")
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                break
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            return width, height
        pos += 2 + length
    raise ImageHeaderError("JPEG header damaged (no frame header SOF)")


def _bmp(data: bytes) -> tuple[int, int]:
    if len(data) < 26:
        raise ImageHeaderError("BMP header damaged (too short)")
    dib = int.from_bytes(data[14:18], "little")
    if dib == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        return int.from_bytes(data[18:20], "little"), int.from_bytes(data[20:22], "little")
    width = int.from_bytes(data[18:22], "little", signed=True)
    height = int.from_bytes(data[22:26], "little", signed=True)  # negative: top-down rows
    return abs(width), abs(height)


def _tiff(data: bytes) -> tuple[int, int]:
    order = "little" if data[:1] == b"I" else "big"
    big = data[2:4] in (b"+\x00", b"\x00+")  # BigTIFF: 8-byte offsets and counts
    word, head, entry_size = (8, 16, 20) if big else (4, 8, 12)
    offset = int.from_bytes(data[head - word : head], order)
    count_size = 8 if big else 2
    if offset < head or offset + count_size > len(data):
        raise ImageHeaderError("TIFF header damaged (bad IFD offset)")
    count = int.from_bytes(data[offset : offset + count_size], order)
    first = offset + count_size
    sizes: dict[int, int] = {}
    for i in range(min(count, 4096)):
        entry = data[first + entry_size * i : first + entry_size * (i + 1)]
        if len(entry) < entry_size:
            raise ImageHeaderError("TIFF header damaged (IFD cut short)")
        tag = int.from_bytes(entry[0:2], order)
        if tag in (256, 257):  # ImageWidth, ImageLength
            kind = int.from_bytes(entry[2:4], order)
            start = 4 + word  # tag, type, count, then the value
            width = {3: 2, 4: 4, 16: 8}.get(kind, 4)  # SHORT, LONG, LONG8
            value = entry[start : start + width]
            sizes[tag] = int.from_bytes(value, order)
    if 256 not in sizes or 257 not in sizes:
        raise ImageHeaderError("TIFF header damaged (no image width/length)")
    return sizes[256], sizes[257]
