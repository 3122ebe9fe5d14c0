"""Perlin gradient noise and DRAEM's thresholded Perlin anomaly masks.

Follows the DRAEM paper / official code (``rand_perlin_2d_np`` + ``iaa.Affine(rotate=(-90, 90))``
+ threshold 0.5), vectorised with numpy and rotated with OpenCV. The only randomness is the
``np.random.Generator`` passed in, so results are reproducible from a seed.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

__all__ = ["rand_perlin_2d", "perlin_mask", "rotate_image"]

_SQRT2 = np.float32(math.sqrt(2.0))


def _check_shape(shape: tuple[int, int], what: str = "shape") -> tuple[int, int]:
    try:
        h, w = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be two positive ints (H, W), got {shape!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"{what} must be two positive ints (H, W), got {shape!r}")
    return h, w


@lru_cache(maxsize=64)
def _axis_grid(n: int, res: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell index, fractional position and faded weight for ``n`` pixels split into ``res`` cells.

    The noise is laid out on a padded grid of ``res * ceil(n / res)`` pixels (every cell exactly
    ``d`` pixels, as in the official code) and cropped to ``n``; for multiples this is identical.
    """
    d = -(-n // res)  # ceil
    i = np.arange(n)
    cell = (i // d).astype(np.intp)
    frac = ((i % d) / d).astype(np.float32)
    fade = frac * frac * frac * (frac * (frac * 6.0 - 15.0) + 10.0)  # 6t^5 - 15t^4 + 10t^3
    for arr in (cell, frac, fade):
        arr.setflags(write=False)
    return cell, frac, fade.astype(np.float32)


def rand_perlin_2d(shape: tuple[int, int], res: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """2-D Perlin gradient noise, float32 ``shape`` (H, W), values in about [-1, 1].

    ``res`` = number of noise periods along (H, W); ``shape`` need not be a multiple of ``res``.
    Random unit gradients sit on the ``(res[0] + 1) x (res[1] + 1)`` lattice corners.
    """
    h, w = _check_shape(shape)
    r0, r1 = _check_shape(res, "res")
    if r0 > h or r1 > w:
        raise ValueError(f"res {res!r} must not exceed shape {shape!r} (at least one pixel per cell)")
    angles = rng.random((r0 + 1, r1 + 1)) * (2.0 * math.pi)
    gx = np.cos(angles).astype(np.float32)
    gy = np.sin(angles).astype(np.float32)

    ci, fi, ti = _axis_grid(h, r0)
    cj, fj, tj = _axis_grid(w, r1)
    fi = fi[:, None]
    fj = fj[None, :]
    fi1 = fi - 1.0
    fj1 = fj - 1.0

    def corner(di: int, dj: int, si: np.ndarray, sj: np.ndarray) -> np.ndarray:
        rows = ci + di
        cols = cj + dj
        return gx[rows][:, cols] * si + gy[rows][:, cols] * sj

    n00 = corner(0, 0, fi, fj)
    n10 = corner(1, 0, fi1, fj)
    n01 = corner(0, 1, fi, fj1)
    n11 = corner(1, 1, fi1, fj1)
    ti = ti[:, None]
    a = n00 + ti * (n10 - n00)
    b = n01 + ti * (n11 - n01)
    out = a + tj[None, :] * (b - a)
    out *= _SQRT2
    return out


def rotate_image(image: np.ndarray, angle_deg: float, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Rotate about the image centre by ``angle_deg`` keeping the size; constant 0 border."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) * 0.5, (h - 1) * 0.5), float(angle_deg), 1.0)
    out = cv2.warpAffine(image, m, (w, h), flags=interpolation,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if out.ndim < image.ndim:  # cv2 drops a trailing singleton channel
        out = out.reshape(image.shape)
    return out


def perlin_mask(shape: tuple[int, int], rng: np.random.Generator, min_exp: int = 0,
                max_exp: int = 6, threshold: float = 0.5) -> np.ndarray:
    """DRAEM anomaly mask: float32 ``shape`` with values in {0, 1}.

    Noise periods are ``2**kx`` x ``2**ky`` with kx, ky drawn independently from
    ``range(min_exp, max_exp)``; the noise is rotated by U(-90, 90) degrees (border 0) and
    thresholded (``> threshold``). The mask may be empty for some draws, as in the official code.
    """
    h, w = _check_shape(shape)
    if not 0 <= min_exp < max_exp:
        raise ValueError(f"need 0 <= min_exp < max_exp, got min_exp={min_exp}, max_exp={max_exp}")
    kx = int(rng.integers(min_exp, max_exp))
    ky = int(rng.integers(min_exp, max_exp))
    res = (min(2 ** kx, h), min(2 ** ky, w))
    noise = rand_perlin_2d((h, w), res, rng)
    noise = rotate_image(noise, rng.uniform(-90.0, 90.0))
    return (noise > threshold).astype(np.float32)
