"""Physically-motivated surface defects for the simulated line.

Independent of ``core.synth`` (the training-time anomaly simulation) on purpose:
evaluation on the simulated line must not reward a model for recognising its own
training augmentations. Each function edits the part texture (and alpha, for a
chip) in place and returns the ground-truth mask (uint8 0/255) in part coordinates.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from core.camera.sim.render import PartTemplate

DEFECT_TYPES = ("scratch", "dent", "stain", "crack", "chip")
VISIBLE_CHANGE = 6.0  # grey levels


def _site(rng: np.random.Generator, points: np.ndarray) -> tuple[int, int]:
    y, x = points[int(rng.integers(len(points)))]
    return int(x), int(y)


def _blend(texture: np.ndarray, weight: np.ndarray, colour: np.ndarray | float) -> None:
    """texture += weight * (colour - texture), per pixel."""
    texture += weight[:, :, None] * (np.asarray(colour, np.float32) - texture)


def scratch(tex: np.ndarray, alpha: np.ndarray, part: PartTemplate, rng: np.random.Generator) -> np.ndarray:
    """A thin, slightly curved groove: bright reflecting core with a dark lip."""
    s = part.size
    x0, y0 = _site(rng, part.inner_points)
    angle = rng.uniform(0, np.pi)
    length = s * rng.uniform(0.18, 0.4)
    bend = rng.uniform(-0.25, 0.25)
    t = np.linspace(-0.5, 0.5, 24)
    dx, dy = np.cos(angle), np.sin(angle)
    xs = x0 + t * length * dx - bend * length * (t**2 - 0.25) * dy
    ys = y0 + t * length * dy + bend * length * (t**2 - 0.25) * dx
    line = np.zeros((s, s), np.float32)
    pts = np.stack([xs, ys], 1).round().astype(np.int32)
    cv2.polylines(line, [pts], False, 1.0, 1, cv2.LINE_AA)
    lip = cv2.GaussianBlur(line, (0, 0), 1.2)
    weight = np.clip(line, 0, 1) * alpha
    _blend(tex, np.clip(lip * 0.8, 0, 0.6) * alpha, 30.0)
    _blend(tex, weight * rng.uniform(0.55, 0.85), 235.0)
    return ((cv2.dilate(line, np.ones((3, 3), np.uint8)) > 0.15) & (alpha > 0.5)).astype(np.uint8) * 255


def dent(tex: np.ndarray, alpha: np.ndarray, part: PartTemplate, rng: np.random.Generator) -> np.ndarray:
    """A shallow impression: side-lit relief of an elliptical bowl."""
    s = part.size
    x0, y0 = _site(rng, part.inner_points)
    rx, ry = s * rng.uniform(0.04, 0.08), s * rng.uniform(0.03, 0.07)
    theta = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    u = ((xx - x0) * np.cos(theta) + (yy - y0) * np.sin(theta)) / rx
    v = (-(xx - x0) * np.sin(theta) + (yy - y0) * np.cos(theta)) / ry
    depth = np.exp(-(u**2 + v**2) * 1.6)
    gy, gx = np.gradient(depth)
    shade = (gx + gy) * max(rx, ry) * rng.uniform(60, 90)  # light from the top-left
    tex += (shade * alpha)[:, :, None]
    tex *= (1.0 - 0.12 * depth * alpha)[:, :, None]
    np.clip(tex, 0, 255, out=tex)
    return ((depth > 0.2) & (alpha > 0.5)).astype(np.uint8) * 255


def stain(tex: np.ndarray, alpha: np.ndarray, part: PartTemplate, rng: np.random.Generator) -> np.ndarray:
    """An irregular oil/rust/coolant blot with a darker drying rim."""
    s = part.size
    x0, y0 = _site(rng, part.inner_points)
    blob = np.zeros((s, s), np.float32)
    r = s * rng.uniform(0.035, 0.07)
    for _ in range(int(rng.integers(3, 7))):
        cx, cy = x0 + rng.normal(0, r * 0.6), y0 + rng.normal(0, r * 0.6)
        cv2.circle(blob, (int(cx), int(cy)), int(r * rng.uniform(0.5, 1.0)), 1.0, -1, cv2.LINE_AA)
    blob = cv2.GaussianBlur(blob, (0, 0), max(1.0, r * 0.25))
    region = (blob > 0.5) & (alpha > 0.5)
    colours = [(35, 55, 85), (20, 60, 120), (60, 60, 60), (90, 120, 130)]
    colour = np.array(colours[int(rng.integers(len(colours)))], np.float32)
    rim = np.clip(blob * (1 - blob) * 4, 0, 1)
    _blend(tex, np.clip(blob, 0, 1) * alpha * rng.uniform(0.35, 0.6), colour)
    _blend(tex, rim * alpha * 0.25, colour * 0.5)
    return region.astype(np.uint8) * 255


def crack(tex: np.ndarray, alpha: np.ndarray, part: PartTemplate, rng: np.random.Generator) -> np.ndarray:
    """A jagged dark fracture line with a side branch."""
    s = part.size
    line = np.zeros((s, s), np.float32)
    x, y = (float(c) for c in _site(rng, part.inner_points))
    heading = rng.uniform(0, 2 * np.pi)
    step = max(2.0, s * 0.018)
    for branch in range(2):
        pts = [(x, y)]
        for _ in range(int(rng.integers(10, 20)) // (branch + 1)):
            heading += rng.normal(0, 0.45)
            x, y = x + step * np.cos(heading), y + step * np.sin(heading)
            pts.append((x, y))
        cv2.polylines(line, [np.round(pts).astype(np.int32)], False, 1.0, 1 + (branch == 0), cv2.LINE_AA)
        x, y = pts[len(pts) // 2]
        heading += rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 1.2)
    weight = np.clip(line, 0, 1) * alpha
    tex *= (1.0 - 0.75 * weight)[:, :, None]
    return ((cv2.dilate(line, np.ones((3, 3), np.uint8)) > 0.15) & (alpha > 0.5)).astype(np.uint8) * 255


def chip(tex: np.ndarray, alpha: np.ndarray, part: PartTemplate, rng: np.random.Generator) -> np.ndarray:
    """Material broken off the outer edge: the belt shows through, fracture rim is bright."""
    s = part.size
    x0, y0 = _site(rng, part.edge_points)
    r = s * rng.uniform(0.045, 0.08)
    x0 += (s / 2 - x0) / (s / 2) * r * 0.3  # bite centred just inside the outline
    y0 += (s / 2 - y0) / (s / 2) * r * 0.3
    n = int(rng.integers(7, 12))
    angles = (np.arange(n) + rng.uniform(-0.35, 0.35, n)) * (2 * np.pi / n)
    radii = r * rng.uniform(0.6, 1.0, n)
    poly = np.stack([x0 + radii * np.cos(angles), y0 + radii * np.sin(angles)], 1).round().astype(np.int32)
    gone = np.zeros((s, s), np.uint8)
    cv2.fillPoly(gone, [poly], 255, cv2.LINE_AA)
    gone_f = gone.astype(np.float32) / 255.0
    before = alpha > 0.5
    rim = cv2.dilate(gone, np.ones((3, 3), np.uint8)).astype(np.float32) / 255.0 - gone_f
    _blend(tex, np.clip(rim, 0, 1) * 0.6, 215.0)
    alpha *= 1.0 - gone_f
    return ((gone > 127) & before).astype(np.uint8) * 255


DEFECTS: dict[str, Callable[..., np.ndarray]] = {
    "scratch": scratch, "dent": dent, "stain": stain, "crack": crack, "chip": chip,
}


def apply_defect(kind: str, tex: np.ndarray, alpha: np.ndarray, part: PartTemplate,
                 rng: np.random.Generator) -> np.ndarray:
    """Paint defect ``kind`` onto ``tex``/``alpha`` (in place); return its mask.

    The mask is the painter's own region plus every part pixel whose colour changed
    by more than ``VISIBLE_CHANGE`` grey levels, so soft edges are labelled too.
    """
    try:
        painter = DEFECTS[kind]
    except KeyError:
        raise ValueError(f"unknown defect type {kind!r}; choose from {', '.join(DEFECT_TYPES)}") from None
    before = tex.copy()
    mask = painter(tex, alpha, part, rng)
    changed = (np.abs(tex - before).max(axis=2) > VISIBLE_CHANGE) & (part.alpha > 0.5)
    return np.where(changed, np.uint8(255), mask).astype(np.uint8)
