"""Image files: strict reading, listing, atomic writing, and the model's input preprocessing.

Everything here works on OpenCV's conventions: colour images are BGR, ``size`` tuples are
``(height, width)`` unless a cv2 call needs ``(width, height)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from core.atomic import atomic_write_bytes
from core.io.image_header import (
    HARD_MAX_PIXELS,
    MAX_PIXELS_ENV,
    ImageHeaderError,
    header_size,
    image_format,
    max_image_pixels,
)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8"


class ImageReadError(ValueError):
    """An image file could not be read; ``str()`` names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"cannot read image '{self.path}': {problem}")


def _png_complete(data: bytes) -> bool:
    """True when the PNG chunk chain is intact up to and including IEND."""
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunk_type = data[pos + 4 : pos + 8]
        end = pos + 12 + length  # length + type + data + crc
        if end > len(data):
            return False
        if chunk_type == b"IEND":
            return True
        pos = end
    return False


def _jpeg_complete(data: bytes) -> bool:
    """True when an end-of-image marker follows the last start-of-scan marker.

    Entropy-coded scan data cannot contain FF D9 (0xFF bytes are stuffed), so a file cut
    anywhere inside the last scan has no EOI after its SOS. Trailing bytes after EOI are fine.
    """
    return data.rfind(b"\xff\xd9") > data.rfind(b"\xff\xda") >= 0


def _pixel_limit(max_pixels: object) -> int:
    """``max_pixels`` checked (a whole number 1 .. 2**30), or the configured default."""
    if max_pixels is None:
        return max_image_pixels()
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) \
            or not 1 <= max_pixels <= HARD_MAX_PIXELS:
        raise ValueError(f"max_pixels must be a whole number from 1 to {HARD_MAX_PIXELS}, "
                         f"got {max_pixels!r}")
    return max_pixels


def check_image_header(path: str | os.PathLike, data: bytes, max_pixels: int | None = None) -> None:
    """Raise :class:`ImageReadError` naming ``path`` when the ``data`` of an image file is not
    a PNG, JPEG, BMP or TIFF, has a damaged header, or its header claims more than
    ``max_pixels`` (default :func:`core.io.image_header.max_image_pixels`); nothing is decoded."""
    p, max_pixels = Path(path), _pixel_limit(max_pixels)
    if image_format(data) is None:
        raise ImageReadError(p, "corrupt or truncated image data")  # not PNG, JPEG, BMP or TIFF
    try:
        size = header_size(data)
    except ImageHeaderError as exc:
        raise ImageReadError(p, f"corrupt or truncated image data ({exc})") from None
    width, height = size if size is not None else (0, 0)
    if width <= 0 or height <= 0:
        raise ImageReadError(p, f"corrupt image header (claims {width} x {height} pixels)")
    if width * height > max_pixels:
        raise ImageReadError(
            p, f"image too large: {width} x {height} = {width * height} pixels is over the limit "
            f"of {max_pixels} (set {MAX_PIXELS_ENV} to raise it)"
        )


def read_image(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Read an image with ``cv2.IMREAD_UNCHANGED`` semantics, strictly.

    The header's width x height is checked against ``max_pixels`` (default:
    :func:`core.io.image_header.max_image_pixels`, 100 MP or ``$LINEINSPECTOR_MAX_PIXELS``)
    before anything is decoded; any decoder error is an :class:`ImageReadError`. An invalid
    ``$LINEINSPECTOR_MAX_PIXELS`` raises a plain ValueError naming it (a setting, not a file).

    Returns uint8 or uint16, HxW (gray) or HxWx3 BGR (an alpha channel is dropped).
    Raises :class:`ImageReadError` for a missing, empty, corrupt, truncated or unsupported
    file; truncated PNG/JPEG files are detected even where the decoder would return a
    half-grey image. EXIF orientation is not applied (frames stay as the sensor saw them).
    """
    p = Path(path)
    if p.suffix.lower() not in IMAGE_EXTENSIONS:
        raise ImageReadError(
            p, f"unsupported format '{p.suffix}' (expected one of {', '.join(IMAGE_EXTENSIONS)})"
        )
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(p, "not found") from None
    except IsADirectoryError:
        raise ImageReadError(p, "is a directory, not a file") from None
    except OSError as exc:
        raise ImageReadError(p, f"cannot open file ({exc.strerror or exc})") from None
    if not data:
        raise ImageReadError(p, "empty file")
    check_image_header(p, data, max_pixels)
    if data.startswith(_PNG_SIGNATURE) and not _png_complete(data):
        raise ImageReadError(p, "corrupt or truncated image data (PNG ends before IEND)")
    if data.startswith(_JPEG_SOI) and not _jpeg_complete(data):
        raise ImageReadError(p, "corrupt or truncated image data (JPEG has no end marker FFD9)")
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except (cv2.error, MemoryError) as exc:  # any decoder failure is a bad file, never a crash
        problem = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ImageReadError(p, f"corrupt image data (decoder error: {problem})") from None
    if image is None or image.size == 0:
        raise ImageReadError(p, "corrupt or truncated image data")
    if image.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(p, f"unsupported format (pixel type {image.dtype}; need 8 or 16 bit)")
    if image.ndim == 3:
        channels = image.shape[2]
        if channels == 1:
            image = image[:, :, 0]
        elif channels == 4:
            image = np.ascontiguousarray(image[:, :, :3])
        elif channels != 3:
            raise ImageReadError(p, f"unsupported format ({channels} channels)")
    return image


def list_images(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """Sorted image files (by :data:`IMAGE_EXTENSIONS`, any case) in ``folder``.

    Hidden files (name starting with '.', e.g. macOS '._x.png' resource forks) are skipped.
    Raises ValueError naming the folder when it does not exist or is not a directory.
    """
    root = Path(folder)
    if not root.exists():
        raise ValueError(f"image folder '{root}' does not exist")
    if not root.is_dir():
        raise ValueError(f"image folder '{root}' is not a directory")
    candidates = root.rglob("*") if recursive else root.iterdir()
    return sorted(
        p
        for p in candidates
        if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") and p.is_file()
    )


def evenly_spaced(items: list, limit: int) -> list:
    """At most ``limit`` of ``items``, spread evenly over the list (all of them if fewer)."""
    if limit < 1 or len(items) <= limit:
        return list(items) if limit >= 1 else []
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def load_images(
    paths: Iterable[str | os.PathLike],
) -> tuple[list[tuple[Path, np.ndarray]], list[tuple[Path, str]]]:
    """Read every path; returns ``(loaded, skipped)`` where skipped pairs carry the reason."""
    loaded: list[tuple[Path, np.ndarray]] = []
    skipped: list[tuple[Path, str]] = []
    for raw in paths:
        p = Path(raw)
        try:
            loaded.append((p, read_image(p)))
        except ImageReadError as exc:
            skipped.append((p, exc.problem))
    return loaded, skipped


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (height, width), got {size!r}") from None
    if h <= 0 or w <= 0 or (h, w) != tuple(size):
        raise ValueError(f"size must be two positive integers (height, width), got {size!r}")
    return h, w


def to_model_input(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """THE preprocessing shared by training and inference.

    Accepts uint8, uint16 or float (values already in [0, 1]) images shaped HxW, HxWx1,
    HxWx3 (BGR) or HxWx4 (BGRA, alpha dropped). Returns a C-contiguous float32 HxWx3 BGR
    array in [0, 1] of ``size=(H, W)``: uint8 / 255, uint16 / 65535, gray replicated to three
    channels, no mean/std normalisation. Resizing uses INTER_AREA when no side grows and
    INTER_LINEAR otherwise; integer images are resized before the conversion to float.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    out_h, out_w = _check_size(size)
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        image = image[:, :, :3] if image.shape[2] == 4 else image
    elif image.ndim != 2:
        raise ValueError(
            f"image must be HxW, HxWx1, HxWx3 or HxWx4, got shape {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty (shape {image.shape})")
    if image.dtype == np.uint8:
        scale = 255.0
    elif image.dtype == np.uint16:
        scale = 65535.0
    elif image.dtype in (np.float16, np.float32, np.float64):
        finite = np.isfinite(image).all()
        lo, hi = (float(image.min()), float(image.max())) if finite else (0.0, 0.0)
        if not finite or lo < -1e-3 or hi > 1.0 + 1e-3:
            raise ValueError(
                "float image values must be finite and in [0, 1] "
                f"(got min {lo if finite else 'non-finite'}, max {hi if finite else 'non-finite'})"
            )
        image = image.astype(np.float32, copy=False)
        scale = None
    else:
        raise ValueError(f"image dtype {image.dtype} not supported (use uint8, uint16 or float)")

    in_h, in_w = image.shape[:2]
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if (in_h, in_w) != (out_h, out_w):
        interp = cv2.INTER_AREA if out_h <= in_h and out_w <= in_w else cv2.INTER_LINEAR
        image = cv2.resize(np.ascontiguousarray(image), (out_w, out_h), interpolation=interp)
    if scale is None:
        out = np.clip(image, 0.0, 1.0).astype(np.float32, copy=False)
    else:
        out = image.astype(np.float32) / np.float32(scale)
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(out, dtype=np.float32)


def write_image_atomic(path: str | os.PathLike, image: np.ndarray) -> None:
    """Encode ``image`` by the suffix of ``path`` and replace the file atomically.

    Written with :func:`core.atomic.atomic_write_bytes`, so readers never see a half-written
    image. Parent folders are created.
    Raises ValueError for an unsupported suffix or an image OpenCV cannot encode.
    """
    p = Path(path)
    if p.suffix.lower() not in IMAGE_EXTENSIONS:
        raise ValueError(
            f"cannot write '{p}': unsupported suffix '{p.suffix}' "
            f"(expected one of {', '.join(IMAGE_EXTENSIONS)})"
        )
    try:
        ok, encoded = cv2.imencode(p.suffix.lower(), image)
    except cv2.error as exc:
        raise ValueError(f"cannot encode image for '{p}': {exc}") from None
    if not ok:
        raise ValueError(
            f"cannot encode image for '{p}' (dtype {image.dtype}, shape {image.shape})"
        )
    atomic_write_bytes(p, encoded.tobytes())
