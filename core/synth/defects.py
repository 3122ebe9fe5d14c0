"""Defect-like synthetic anomalies, beside the paper's Perlin x texture.

Each kind takes a float32 HxWx3 image in [0, 1] and an ``np.random.Generator`` (the
``patch`` kind also a second good image, the *donor*) and returns ``(augmented, mask)``:
the image with the defect and a float32 HxW {0, 1} mask of where it is. The input is
never modified. Sizes are relative to the image's shorter side, so a kind means the same
at any resolution; intensities are relative changes of the surface itself (a crack
darkens what lies under it), so the texture stays visible through the defect as on a
real part.

Kinds:
    crack    thin dark (sometimes bright) random-walk polylines, 1-4 px, may branch
    scratch  long, nearly straight thin lines of low contrast, bright or dark
    pit      small dark round spots with a soft edge: pits, pores, blowholes
    stain    a smooth blob that changes brightness, contrast or sharpness (low contrast)
    patch    a region with sharp edges filled with another part of a good image (shifted,
             flipped, rescaled, re-lit): a foreign surface, a misplaced or re-ground area
"""

from __future__ import annotations

import math
from typing import Callable

import cv2
import numpy as np

from core.synth.perlin import perlin_mask

__all__ = ["DEFECT_KINDS", "crack", "scratch", "pit", "stain", "patch", "visible"]

Defect = Callable[..., tuple[np.ndarray, np.ndarray]]


def _side(image: np.ndarray) -> int:
    return int(min(image.shape[:2]))


def _modulate(image: np.ndarray, alpha: np.ndarray, dark: bool, strength: float) -> np.ndarray:
    """Darken (multiply towards black) or brighten (towards white) where ``alpha`` > 0."""
    a = (alpha * np.float32(strength))[..., None]
    if dark:
        out = image * (1.0 - a)
    else:
        out = image + (1.0 - image) * a
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


def _mask_of(alpha: np.ndarray, level: float = 0.3) -> np.ndarray:
    return (alpha > level).astype(np.float32)


def _polyline(h: int, w: int, rng: np.random.Generator, n: int, step: float, turn: float,
              start: np.ndarray | None = None) -> np.ndarray:
    """A random walk of ``n`` points, ``step`` pixels apart, turning by N(0, ``turn``) rad."""
    p = start if start is not None else np.array([rng.uniform(0, w), rng.uniform(0, h)])
    angle = rng.uniform(0, 2 * math.pi)
    pts = [p]
    for _ in range(n - 1):
        angle += rng.normal(0.0, turn)
        p = p + step * rng.uniform(0.5, 1.5) * np.array([math.cos(angle), math.sin(angle)])
        pts.append(p)
    return np.asarray(pts)


def _draw(h: int, w: int, lines: list[np.ndarray], thickness: int) -> np.ndarray:
    """Anti-aliased lines on a float canvas (sub-pixel precision via cv2's shift)."""
    canvas = np.zeros((h, w), np.uint8)
    shift = 4
    for pts in lines:
        ipts = np.round(pts * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [ipts], False, 255, thickness=thickness, lineType=cv2.LINE_AA,
                      shift=shift)
    return canvas.astype(np.float32) * np.float32(1.0 / 255.0)


def crack(image: np.ndarray, rng: np.random.Generator, donor=None) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    s = _side(image)
    lines = []
    for _ in range(int(rng.integers(1, 3))):
        pts = _polyline(h, w, rng, int(rng.integers(3, 12)), s * rng.uniform(0.02, 0.08), 0.5)
        lines.append(pts)
        if rng.random() < 0.4:  # a branch from a point of the crack
            j = int(rng.integers(len(pts)))
            lines.append(_polyline(h, w, rng, int(rng.integers(2, 6)), s * 0.04, 0.6, pts[j]))
    thickness = int(rng.choice([1, 1, 2, 2, 3, 4]))
    alpha = _draw(h, w, lines, thickness)
    if rng.random() < 0.5:  # a soft halo, as a crack shadows its rim
        alpha = np.maximum(alpha, 0.5 * cv2.GaussianBlur(alpha, (0, 0), 1.0))
    dark = rng.random() < 0.8
    out = _modulate(image, alpha, dark, rng.uniform(0.35, 0.85))
    return out, _mask_of(alpha)


def scratch(image: np.ndarray, rng: np.random.Generator, donor=None) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    s = _side(image)
    lines = []
    for _ in range(int(rng.integers(1, 4))):
        n = int(rng.integers(2, 5))
        lines.append(_polyline(h, w, rng, n, s * rng.uniform(0.1, 0.35), 0.08))
    alpha = _draw(h, w, lines, int(rng.choice([1, 1, 2])))
    out = _modulate(image, alpha, rng.random() < 0.5, rng.uniform(0.2, 0.6))
    return out, _mask_of(alpha)


def pit(image: np.ndarray, rng: np.random.Generator, donor=None) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    s = _side(image)
    canvas = np.zeros((h, w), np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    spread = s * rng.uniform(0.0, 0.15)
    for _ in range(int(rng.integers(1, 5))):
        r = max(1.5, s * float(rng.uniform(0.008, 0.05)))
        x, y = cx + rng.normal(0, spread + 1e-6), cy + rng.normal(0, spread + 1e-6)
        axes = (r, r * rng.uniform(0.6, 1.0))
        cv2.ellipse(canvas, ((float(x), float(y)), (2 * axes[0], 2 * axes[1]), float(rng.uniform(0, 180))),
                    1.0, -1, cv2.LINE_AA)
    mask = _mask_of(canvas, 0.5)
    alpha = cv2.GaussianBlur(canvas, (0, 0), float(rng.uniform(0.5, 1.5)))
    out = _modulate(image, alpha, rng.random() < 0.85, rng.uniform(0.4, 0.9))
    return out, mask


def _blob(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A Perlin blob at low frequency, not empty (falls back to an ellipse)."""
    for _ in range(4):
        m = perlin_mask((h, w), rng, min_exp=0, max_exp=4)
        if m.mean() > 0.005:
            return m
    m = np.zeros((h, w), np.float32)
    cv2.ellipse(m, ((w * rng.uniform(0.2, 0.8), h * rng.uniform(0.2, 0.8)),
                    (w * rng.uniform(0.1, 0.4), h * rng.uniform(0.1, 0.4)), float(rng.uniform(0, 180))),
                1.0, -1)
    return m


def stain(image: np.ndarray, rng: np.random.Generator, donor=None) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    mask = _blob(h, w, rng)
    soft = cv2.GaussianBlur(mask, (0, 0), max(1.0, _side(image) * 0.01))[..., None]
    mode = int(rng.integers(4))
    if mode == 0:    # brightness: multiply by 0.55-0.8 or 1.25-1.6
        g = rng.uniform(0.55, 0.8) if rng.random() < 0.5 else rng.uniform(1.25, 1.6)
        changed = image * np.float32(g)
    elif mode == 1:  # contrast around the local mean
        g = rng.uniform(1.8, 3.0) if rng.random() < 0.5 else rng.uniform(0.1, 0.4)
        mean = cv2.blur(image, (9, 9))
        changed = mean + (image - mean) * np.float32(g)
    elif mode == 2:  # blur (a smear) or sharpening
        blurred = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(1.5, 4.0)))
        changed = blurred if rng.random() < 0.5 else image + 2.0 * (image - blurred)
    else:            # a tint (coloured images) or a grey offset
        tint = rng.uniform(-0.25, 0.25, size=3).astype(np.float32)
        if image.shape[2] == 3 and np.allclose(image[..., 0], image[..., 1]):
            tint[:] = tint[0] if abs(tint[0]) > 0.1 else 0.2
        changed = image + tint
    out = image * (1.0 - soft) + np.clip(changed, 0.0, 1.0) * soft
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False), mask


def _region(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A region with sharp, straight-ish edges: a polygon, or a band cut by a line."""
    m = np.zeros((h, w), np.uint8)
    if rng.random() < 0.5:
        c = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        r = min(h, w) * rng.uniform(0.08, 0.35)
        k = int(rng.integers(3, 8))
        ang = np.sort(rng.uniform(0, 2 * math.pi, k))
        rad = r * rng.uniform(0.5, 1.3, k)
        pts = np.stack([c[0] + rad * np.cos(ang), c[1] + rad * np.sin(ang)], 1)
        cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 1)
    else:  # the part of the image beyond a line across it, covering 10-45 % of the image
        ang = rng.uniform(0, 2 * math.pi)
        n = np.array([math.cos(ang), math.sin(ang)])
        y, x = np.mgrid[0:h, 0:w]
        d = (x - w / 2) * n[0] + (y - h / 2) * n[1]
        m = (d > np.quantile(d, 1.0 - rng.uniform(0.1, 0.45))).astype(np.uint8)
    return m.astype(np.float32)


def patch(image: np.ndarray, rng: np.random.Generator,
          donor: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    src = image if donor is None else donor
    if src.shape[:2] != (h, w):
        src = cv2.resize(src, (w, h), interpolation=cv2.INTER_LINEAR)
    # rescale (a different grain), flip, shift, re-light
    scale = float(np.exp(rng.uniform(-0.7, 0.7)))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.choice([0, 0, 90, 180, 270]) if h == w else
                                                      rng.choice([0, 180])), scale)
    m[:, 2] += rng.uniform(-0.5, 0.5, 2) * (w, h)
    src = cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if rng.random() < 0.5:
        src = src[:, ::-1]
    src = src * np.float32(rng.uniform(0.75, 1.3)) + np.float32(rng.uniform(-0.1, 0.1))
    mask = _region(h, w, rng)
    soft = cv2.GaussianBlur(mask, (0, 0), 0.7)[..., None]
    out = image * (1.0 - soft) + np.clip(src, 0.0, 1.0) * soft
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False), mask


def visible(image: np.ndarray, out: np.ndarray, mask: np.ndarray, level: float = 0.02) -> np.ndarray:
    """The part of ``mask`` where the defect changed the image visibly (a stain on a white
    background changes nothing there, and must not be labelled as anomalous)."""
    diff = np.abs(out - image).max(axis=2)
    diff = cv2.GaussianBlur(diff, (0, 0), 1.0)
    return (mask * (diff > level)).astype(np.float32)


DEFECT_KINDS: dict[str, Defect] = {"crack": crack, "scratch": scratch, "pit": pit,
                                   "stain": stain, "patch": patch}
