"""Pixel format conversions on synthetic buffers with known colours."""

from __future__ import annotations

import numpy as np
import pytest

from core.camera.errors import UnsupportedPixelFormatError
from core.camera.genicam.pixelformats import SUPPORTED_PIXEL_FORMATS, convert

H, W = 8, 10
RED_BGR = (0, 0, 255)

# Offsets (row, col) of the red sample in each 2x2 Bayer tile, by PFNC name.
BAYER_RED_AT = {"BayerRG8": (0, 0), "BayerGR8": (0, 1), "BayerGB8": (1, 0), "BayerBG8": (1, 1)}


def _bayer(fmt: str, colour_rgb: tuple[int, int, int]) -> np.ndarray:
    """A flat mosaic of ``colour_rgb`` for the layout of ``fmt``."""
    r_at = BAYER_RED_AT[fmt]
    b_at = (1 - r_at[0], 1 - r_at[1])
    mosaic = np.full((H, W), colour_rgb[1], np.uint8)  # green elsewhere
    mosaic[r_at[0]::2, r_at[1]::2] = colour_rgb[0]
    mosaic[b_at[0]::2, b_at[1]::2] = colour_rgb[2]
    return mosaic.reshape(-1)


@pytest.mark.parametrize("fmt", sorted(BAYER_RED_AT))
@pytest.mark.parametrize("rgb", [(255, 0, 0), (0, 255, 0), (0, 0, 255), (200, 100, 30)])
def test_bayer_layouts_keep_their_colour(fmt: str, rgb: tuple[int, int, int]) -> None:
    out = convert(_bayer(fmt, rgb), W, H, fmt)
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    centre = out[2:-2, 2:-2].reshape(-1, 3)  # borders are interpolated from fewer samples
    expected_bgr = np.array(rgb[::-1])
    assert np.abs(centre.astype(int) - expected_bgr).max() <= 1, (fmt, rgb, centre[0])


def test_pure_red_rggb_mosaic_is_red() -> None:
    out = convert(_bayer("BayerRG8", (255, 0, 0)), W, H, "BayerRG8")
    assert tuple(out[H // 2, W // 2]) == RED_BGR


def test_wrong_bayer_layout_would_not_be_red() -> None:
    """Guards the test itself: decoding an RGGB mosaic as BGGR swaps red and blue."""
    out = convert(_bayer("BayerRG8", (255, 0, 0)), W, H, "BayerBG8")
    assert tuple(out[H // 2, W // 2]) != RED_BGR


@pytest.mark.parametrize(
    "fmt,pixel,expected",
    [
        ("RGB8", (255, 0, 0), RED_BGR),
        ("BGR8", (0, 0, 255), RED_BGR),
        ("RGBa8", (255, 0, 0, 7), RED_BGR),
        ("BGRa8", (0, 0, 255, 7), RED_BGR),
        ("RGB8", (10, 20, 30), (30, 20, 10)),
    ],
)
def test_packed_colour_formats_give_bgr(fmt: str, pixel: tuple[int, ...], expected: tuple[int, ...]) -> None:
    data = np.tile(np.array(pixel, np.uint8), H * W)
    out = convert(data, W, H, fmt)
    assert out.shape == (H, W, 3)
    assert tuple(out[3, 4]) == expected


@pytest.mark.parametrize("fmt,bits", [("Mono10", 10), ("Mono12", 12), ("Mono16", 16)])
def test_mono_high_bit_depth_is_msb_aligned_uint16(fmt: str, bits: int) -> None:
    top = (1 << bits) - 1
    data = np.array([0, 1, top, top // 2] * (H * W // 4), np.uint16)
    out = convert(data, W, H, fmt)
    assert out.dtype == np.uint16 and out.shape == (H, W)
    assert out.reshape(-1)[:4].tolist() == [0, 1 << (16 - bits), top << (16 - bits), (top // 2) << (16 - bits)]


def test_mono16_from_raw_little_endian_bytes() -> None:
    values = np.arange(H * W, dtype="<u2") * 500
    out = convert(values.view(np.uint8), W, H, "Mono16")
    assert np.array_equal(out.reshape(-1), values)


def test_mono8_is_a_copy_not_a_view() -> None:
    data = np.arange(H * W, dtype=np.uint8)
    out = convert(data, W, H, "Mono8")
    data[:] = 0  # the camera re-uses its buffer
    assert out.reshape(-1)[5] == 5


def test_every_supported_format_converts() -> None:
    for fmt in SUPPORTED_PIXEL_FORMATS:
        wide = fmt.startswith("Mono1")
        comps = 4 if fmt.endswith("a8") else 3 if fmt in ("RGB8", "BGR8") else 1
        data = np.zeros(H * W * comps, np.uint16 if wide else np.uint8)
        out = convert(data, W, H, fmt)
        assert out.shape[:2] == (H, W), fmt


def test_unsupported_format_names_itself() -> None:
    with pytest.raises(UnsupportedPixelFormatError, match="Mono12Packed"):
        convert(np.zeros(H * W * 2, np.uint8), W, H, "Mono12Packed")


def test_short_buffer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="RGB8.*needs 240"):
        convert(np.zeros(10, np.uint8), W, H, "RGB8")
