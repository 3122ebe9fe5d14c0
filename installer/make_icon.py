"""Render resources/icons/lineinspector.png (256x256) and lineinspector.ico (Windows: 16 to 256
px, PNG-compressed entries) from the same shapes as lineinspector.svg.

OpenCV only (no SVG renderer or Pillow needed): drawn at 4x and downscaled for anti-aliasing.
Run: .venv/bin/python installer/make_icon.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "resources" / "icons" / "lineinspector.png"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
S = 4  # supersampling


def _bgr(hex_rgb: str) -> tuple[int, int, int, int]:
    r, g, b = (int(hex_rgb[i:i + 2], 16) for i in (1, 3, 5))
    return (b, g, r, 255)


def _p(*xy: float) -> tuple[int, ...]:
    return tuple(int(round(v * S)) for v in xy)


def _rounded_rect(img: np.ndarray, x: float, y: float, w: float, h: float, r: float, color) -> None:
    x0, y0, x1, y1, rr = (int(round(v * S)) for v in (x, y, x + w, y + h, r))
    cv2.rectangle(img, (x0 + rr, y0), (x1 - rr, y1), color, -1)
    cv2.rectangle(img, (x0, y0 + rr), (x1, y1 - rr), color, -1)
    for cx, cy in ((x0 + rr, y0 + rr), (x1 - rr, y0 + rr), (x0 + rr, y1 - rr), (x1 - rr, y1 - rr)):
        cv2.circle(img, (cx, cy), rr, color, -1, cv2.LINE_AA)


def render(size: int = 256) -> np.ndarray:
    img = np.zeros((256 * S, 256 * S, 4), np.uint8)
    _rounded_rect(img, 8, 8, 240, 240, 40, _bgr("#1f3a5f"))
    _rounded_rect(img, 28, 186, 200, 18, 9, _bgr("#8da9c4"))
    for cx in (54, 128, 202):
        cv2.circle(img, _p(cx, 195), 5 * S, _bgr("#1f3a5f"), -1, cv2.LINE_AA)
    cv2.line(img, _p(150, 134), _p(196, 180), _bgr("#f2f2f2"), 22 * S, cv2.LINE_AA)
    for end in ((150, 134), (196, 180)):
        cv2.circle(img, _p(*end), 11 * S, _bgr("#f2f2f2"), -1, cv2.LINE_AA)
    cv2.circle(img, _p(112, 96), 58 * S, _bgr("#163049"), -1, cv2.LINE_AA)
    cv2.circle(img, _p(112, 96), 58 * S, _bgr("#f2f2f2"), 16 * S, cv2.LINE_AA)
    pts = np.array([_p(84, 98), _p(104, 120), _p(142, 76)], np.int32)
    cv2.polylines(img, [pts], False, _bgr("#3ccf6e"), 16 * S, cv2.LINE_AA)
    for pt in pts:
        cv2.circle(img, tuple(int(v) for v in pt), 8 * S, _bgr("#3ccf6e"), -1, cv2.LINE_AA)
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def ico_bytes(sizes: tuple[int, ...] = ICO_SIZES) -> bytes:
    """A .ico file whose entries are PNG images (understood by Windows Vista and later)."""
    import struct

    pngs = []
    for size in sizes:
        ok, buf = cv2.imencode(".png", render(size), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        assert ok
        pngs.append(buf.tobytes())
    head = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(head) + 16 * len(sizes)
    entries, data = b"", b""
    for size, png in zip(sizes, pngs):
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return head + entries + data


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(OUT), render(), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    ico = OUT.with_suffix(".ico")
    ico.write_bytes(ico_bytes())
    for path in (OUT, ico):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
