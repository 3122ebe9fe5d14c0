"""Procedural rendering of the simulated production line (no defects here).

Everything expensive (part texture, belt texture) is rendered once per seed and
size; a frame then costs one affine warp, a composite, a lighting ramp and noise.
Images are float32 BGR in 0..255 until the final conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MATERIALS = ("metal", "plastic")
SHAPES = ("plate", "flange")


@dataclass(slots=True)
class PartTemplate:
    """Clean part in its own square canvas (``size`` x ``size``)."""

    texture: np.ndarray  # float32 SxSx3
    alpha: np.ndarray  # float32 SxS, 1 = part material
    inner_points: np.ndarray  # (N, 2) y, x well inside the material (defect sites)
    edge_points: np.ndarray  # (M, 2) y, x on the outer outline (chip sites)

    @property
    def size(self) -> int:
        return int(self.alpha.shape[0])


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], blur: tuple[int, int]) -> np.ndarray:
    noise = rng.standard_normal(shape).astype(np.float32)
    noise = cv2.blur(noise, blur)
    return noise / (noise.std() + 1e-6)


def _outline(size: int, shape: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Alpha (with holes) and the outer-outline-only mask, both uint8 0/255, 4x supersampled."""
    big = size * 4
    c = big // 2
    solid = np.zeros((big, big), np.uint8)
    if shape == "plate":
        half = int(big * 0.42)
        corner = int(big * rng.uniform(0.08, 0.14))
        cv2.rectangle(solid, (c - half + corner, c - half), (c + half - corner, c + half), 255, -1)
        cv2.rectangle(solid, (c - half, c - half + corner), (c + half, c + half - corner), 255, -1)
        for sx in (-1, 1):
            for sy in (-1, 1):
                cv2.circle(solid, (c + sx * (half - corner), c + sy * (half - corner)), corner, 255, -1)
        holes = [((c, c), int(big * 0.10))]
        off = half - int(big * 0.09)
        holes += [((c + sx * off, c + sy * off), int(big * 0.035)) for sx in (-1, 1) for sy in (-1, 1)]
    else:
        cv2.circle(solid, (c, c), int(big * 0.44), 255, -1)
        holes = [((c, c), int(big * 0.16))]
        for k in range(6):
            a = k * np.pi / 3
            holes.append(((int(c + np.cos(a) * big * 0.31), int(c + np.sin(a) * big * 0.31)), int(big * 0.03)))
    full = solid.copy()
    for centre, radius in holes:
        cv2.circle(full, centre, radius, 0, -1)
    shrink = lambda m: cv2.resize(m, (size, size), interpolation=cv2.INTER_AREA)  # noqa: E731
    return shrink(full), shrink(solid)


def render_part(rng: np.random.Generator, size: int, material: str, shape: str) -> PartTemplate:
    """Render a clean part: texture, anti-aliased alpha, bevel shading, defect sites."""
    if material not in MATERIALS:
        raise ValueError(f"unknown material {material!r}; choose one of {', '.join(MATERIALS)}")
    if shape not in SHAPES:
        raise ValueError(f"unknown part shape {shape!r}; choose one of {', '.join(SHAPES)}")
    alpha_u8, solid_u8 = _outline(size, shape, rng)
    alpha = alpha_u8.astype(np.float32) / 255.0
    if material == "metal":
        base = np.array([150, 146, 140], np.float32) * rng.uniform(0.9, 1.1)
        angle = rng.uniform(0, 180)
        streaks = _smooth_noise(rng, (size * 2, size * 2), (max(9, size // 6), 1))
        rot = cv2.getRotationMatrix2D((size, size), angle, 1.0)
        streaks = cv2.warpAffine(streaks, rot, (size * 2, size * 2))[size // 2: size // 2 + size, size // 2: size // 2 + size]
        grain = 9.0 * streaks + 4.0 * _smooth_noise(rng, (size, size), (size // 3, size // 3))
        tint = np.array([1.02, 1.0, 0.97], np.float32)
    else:
        palette = [(60, 60, 160), (150, 110, 40), (70, 140, 70), (200, 205, 210)]
        base = np.array(palette[int(rng.integers(len(palette)))], np.float32)
        grain = 3.0 * _smooth_noise(rng, (size, size), (2, 2)) + 6.0 * _smooth_noise(rng, (size, size), (size // 4, size // 4))
        tint = np.ones(3, np.float32)
    texture = (base[None, None, :] + grain[:, :, None] * tint[None, None, :]).astype(np.float32)
    # Bevel: light from the top-left brightens edges facing it, darkens the others.
    soft = cv2.GaussianBlur(alpha, (0, 0), max(1.0, size / 90))
    gy, gx = np.gradient(soft)
    relief = (gx + gy) / (np.abs(gx + gy).max() + 1e-6)
    specular = 25.0 * np.exp(-(((np.arange(size) - size * rng.uniform(0.3, 0.7)) / (size * 0.18)) ** 2))
    texture += relief[:, :, None] * 45.0 + specular[None, :, None] * (material == "metal")
    np.clip(texture, 0, 255, out=texture)
    dist = cv2.distanceTransform((alpha_u8 > 127).astype(np.uint8), cv2.DIST_L2, 3)
    inner = np.argwhere(dist > size * 0.07)
    edge_band = cv2.morphologyEx(solid_u8, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    edge = np.argwhere(edge_band > 127)
    return PartTemplate(texture, alpha, inner, edge)


def render_belt(rng: np.random.Generator, width: int, height: int, period: int) -> np.ndarray:
    """Conveyor belt (dark rubber, fine grain, guide rails), periodic along x with ``period``."""
    tile = 14.0 * _smooth_noise(rng, (height, period), (2, 2))
    wrap = cv2.copyMakeBorder(rng.standard_normal((height, period)).astype(np.float32), 0, 0, 8, 8, cv2.BORDER_WRAP)
    tile += 5.0 * cv2.blur(wrap, (15, 3))[:, 8:-8]
    tile += 58.0
    belt = np.repeat(tile[:, :, None], 3, axis=2) * np.array([1.0, 1.0, 1.04], np.float32)
    rail = max(3, height // 14)
    ramp = np.linspace(150, 205, rail, dtype=np.float32)[:, None, None]
    belt[:rail] = ramp
    belt[-rail:] = ramp[::-1]
    reps = int(np.ceil((width + period) / period)) + 1
    return np.ascontiguousarray(np.tile(belt, (1, reps, 1))[:, : width + period]).astype(np.float32)


def compose(
    belt: np.ndarray, part: np.ndarray, alpha: np.ndarray, shadow: np.ndarray,
    light: np.ndarray, noise: np.ndarray, brightness: float,
) -> np.ndarray:
    """Belt + shadow + part, lit and noised; returns uint8 BGR."""
    a = alpha[:, :, None]
    out = belt * (1.0 - 0.55 * shadow[:, :, None])
    out += (part - out) * a
    out *= (light * brightness)[:, :, None]
    out += noise
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)
