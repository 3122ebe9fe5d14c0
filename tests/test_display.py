"""core.display: the one home of uint8 conversion, JET heat maps, outlines and overlays.

PINNED holds digests of what the code before issue 14 drew on these arrays (the copies in
core/inference/overlay.py, core/inspection/render.py, core/store/archive.py and
core/training/job.py); a mismatch means a picture a user sees has changed.
"""

import hashlib

import cv2
import numpy as np
import pytest

from core.display import (draw_outline, heatmap_bgr, outline_rgba, render_overlay, to_bgr8,
                          to_display_rgb, to_uint8)
from core.store.archive import heatmap_to_bgr
from core.training.job import write_preview


def _arrays() -> dict[str, np.ndarray]:
    y, x = np.mgrid[0:48, 0:64]
    amap = (0.15 * (np.sin(x * 0.37) * np.cos(y * 0.23) + 1.0)).astype(np.float32)
    amap[10:30, 12:40] += 0.5
    amap[35:44, 50:60] += 0.3
    odd = amap.copy()
    odd[0, :4] = [np.nan, -0.2, 1.7, np.inf]
    bgr = np.dstack([(x * 7 + y * 13 + c * 50) % 256 for c in range(3)]).astype(np.uint8)
    bgra = np.dstack([bgr, ((x * y) % 256).astype(np.uint8)])
    gray16 = ((x * 1021 + y * 3001) % 65536).astype(np.uint16)
    fimg = (bgr.astype(np.float32) / 255.0 + 0.0013).clip(0, 1)
    return {"amap": amap, "odd": odd, "bgr": bgr, "bgra": bgra, "gray16": gray16, "fimg": fimg,
            "small": cv2.resize(amap, (32, 24)), "gray1": bgr[..., :1].copy()}


def _digest(*images: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in images:
        a = np.ascontiguousarray(a)
        h.update(a.tobytes() + str((a.shape, a.dtype.str)).encode())
    return h.hexdigest()[:16]


def _drawn(tmp_path) -> dict[str, str]:
    a = _arrays()
    files = write_preview(tmp_path, {"image": a["fimg"], "anomaly_map": a["odd"],
                                     "val_anomaly_map": a["amap"][..., None]})
    return {
        "overlay": _digest(render_overlay(a["bgr"], a["amap"], 0.45, 0.5),
                           render_overlay(a["gray16"], a["small"], 0.3, None),
                           render_overlay(a["fimg"], a["amap"], 0.45, 0.6),
                           render_overlay(a["bgra"], a["amap"]),
                           render_overlay(a["gray1"], a["odd"], 0.45, 0.5)),
        "heatmap": _digest(heatmap_bgr(a["amap"]), heatmap_bgr(a["odd"])),
        "archive": _digest(*(heatmap_to_bgr(a[k]) for k in ("amap", "odd", "bgr"))),
        "outline": _digest(outline_rgba(a["amap"], 0.5), outline_rgba(a["amap"], 0.6, (255, 0, 0), 3),
                           outline_rgba(a["amap"], 2.0), outline_rgba(cv2.resize(a["amap"], (700, 500)), 0.5)),
        "rgb": _digest(*(to_display_rgb(a[k]) for k in ("bgr", "bgra", "gray16", "gray1"))),
        "preview": _digest(*(cv2.imread(files[k], cv2.IMREAD_UNCHANGED) for k in sorted(files))),
    }


PINNED = {"overlay": "60cecc523006393a", "heatmap": "23e4de1a3e2aef0b", "archive": "3fbb1d3bcd7460a6",
          "outline": "68a8f43b07cf687d", "rgb": "57a9920d16f31fc5", "preview": "8406e913e207fa21"}


def test_pictures_are_pixel_identical_to_the_code_before_issue_14(tmp_path):
    assert _drawn(tmp_path) == PINNED


def test_to_uint8_matches_the_formulas_it_replaced():
    a = _arrays()
    for x in (a["fimg"], a["odd"], np.linspace(-0.1, 1.1, 5001)):  # float32 and float64
        with np.errstate(invalid="ignore"):  # the old formulas cast NaN (to 0) with a warning
            floor = np.clip(x * 255.0, 0, 255).astype(np.uint8)              # overlay, heat map, LUT
            nearest = np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)      # training data, preview
        np.testing.assert_array_equal(to_uint8(x), floor)
        np.testing.assert_array_equal(to_uint8(x, nearest=True), nearest)
    assert to_uint8(a["bgr"]) is a["bgr"]
    np.testing.assert_array_equal(to_uint8(a["gray16"]), (a["gray16"] >> 8).astype(np.uint8))


def test_conversions_and_outline():
    values = np.array([0.0, 0.5, 1.0, 2.0, -1.0, np.nan], np.float32)
    assert to_uint8(values).tolist() == [0, 127, 255, 255, 0, 0]
    assert to_uint8(np.array([0.5, 0.999], np.float32), nearest=True).tolist() == [128, 255]
    assert to_bgr8(np.zeros((4, 5), np.uint16)).shape == (4, 5, 3)
    with pytest.raises(ValueError, match="float32"):
        to_display_rgb(np.zeros((4, 4), np.float32))
    heat = heatmap_bgr(np.array([[0.0, 1.0]], np.float32))
    assert heat[0, 0, 0] > heat[0, 0, 2] and heat[0, 1, 2] > heat[0, 1, 0]  # blue low, red high
    amap = np.zeros((20, 20), np.float32)
    amap[5:15, 5:15] = 1.0
    canvas = np.zeros((20, 20, 3), np.uint8)
    assert draw_outline(canvas, amap, 0.5, (0, 0, 255), 1) is canvas
    assert canvas[5, 5:15, 2].all() and not canvas[10, 10].any() and not canvas[0, 0].any()
    assert not draw_outline(np.zeros((20, 20), np.uint8), amap, 1.5, 255, 1).any()


def test_render_helpers():
    bgr = np.zeros((10, 12, 3), np.uint8)
    bgr[..., 0] = 255  # blue in BGR
    rgb = to_display_rgb(bgr)
    assert rgb[0, 0].tolist() == [0, 0, 255]
    assert to_display_rgb(np.full((4, 4), 4095 << 4, np.uint16)).max() == 255
    amap = np.zeros((10, 12), np.float32)
    amap[3:7, 4:9] = 0.9
    line = outline_rgba(amap, 0.5)
    assert line[..., 3].any() and not line[0, 0, 3]  # outline drawn, background transparent
    assert not outline_rgba(amap, 0.95)[..., 3].any()
