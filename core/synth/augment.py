"""The ten anomaly-texture augmenters of DRAEM, reimplemented with numpy + OpenCV.

Each mirrors the imgaug augmenter used by the official code (``data_loader.py``)::

    GammaContrast((0.5, 2.0), per_channel=True)      -> gamma_contrast
    MultiplyAndAddToBrightness(mul=(0.8, 1.2), add=(-30, 30)) -> multiply_add_brightness
    pillike.EnhanceSharpness()                       -> sharpness
    AddToHueAndSaturation((-50, 50), per_channel=True) -> hue_saturation
    Solarize(0.5, threshold=(32, 128))               -> solarize
    Posterize()                                      -> posterize
    Invert()                                         -> invert
    pillike.Autocontrast()                           -> autocontrast
    pillike.Equalize()                               -> equalize
    Affine(rotate=(-45, 45))                         -> affine

Every augmenter takes a uint8 HxWx3 (BGR) image and an ``np.random.Generator`` and returns a new
uint8 HxWx3 image of the same size; the input is never modified.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from core.synth.perlin import rotate_image

__all__ = ["AUGMENTERS", "Augmenter", "random_augment"]

Augmenter = Callable[[np.ndarray, np.random.Generator], np.ndarray]

_LEVELS = np.arange(256, dtype=np.float32)


def _check(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3:
        got = (f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray)
               else type(image).__name__)
        raise ValueError(f"augmenters need a uint8 HxWx3 image, got {got}")


def _lut(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def gamma_contrast(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """out = 255 * (in / 255) ** gamma, gamma ~ U(0.5, 2.0) drawn per channel."""
    _check(image)
    gammas = rng.uniform(0.5, 2.0, size=3)
    table = np.stack([_lut(255.0 * (_LEVELS / 255.0) ** g) for g in gammas], axis=-1)
    return cv2.LUT(image, table.reshape(1, 256, 3))


# (to-colourspace code, back code, index of the brightness channel) as in imgaug's default list
_BRIGHTNESS_SPACES = (
    (cv2.COLOR_BGR2YCrCb, cv2.COLOR_YCrCb2BGR, 0),
    (cv2.COLOR_BGR2HSV, cv2.COLOR_HSV2BGR, 2),
    (cv2.COLOR_BGR2HLS, cv2.COLOR_HLS2BGR, 1),
    (cv2.COLOR_BGR2Lab, cv2.COLOR_Lab2BGR, 0),
)


def multiply_add_brightness(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness channel (Y / V / L, random colourspace) * U(0.8, 1.2) + U{-30..30}, random order."""
    _check(image)
    to_code, back_code, ch = _BRIGHTNESS_SPACES[int(rng.integers(len(_BRIGHTNESS_SPACES)))]
    mul = rng.uniform(0.8, 1.2)
    add = float(rng.integers(-30, 31))
    if rng.random() < 0.5:
        table = _lut(_LEVELS * mul + add)
    else:
        table = _lut(np.clip(_LEVELS + add, 0, 255) * mul)
    conv = cv2.cvtColor(image, to_code)
    conv[..., ch] = cv2.LUT(conv[..., ch], table)
    return cv2.cvtColor(conv, back_code)


_SMOOTH = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=np.float32) / 13.0


def sharpness(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """PIL ``ImageEnhance.Sharpness`` with factor ~ U(0, 2): blend of SMOOTH-filtered and original.

    factor < 1 blurs, > 1 sharpens; border pixels of the smoothed image are the original's (PIL).
    """
    _check(image)
    factor = rng.uniform(0.0, 2.0)
    degenerate = cv2.filter2D(image, -1, _SMOOTH, borderType=cv2.BORDER_REPLICATE)  # uint8, rounded
    degenerate[0, :] = image[0, :]
    degenerate[-1, :] = image[-1, :]
    degenerate[:, 0] = image[:, 0]
    degenerate[:, -1] = image[:, -1]
    # degenerate + factor * (image - degenerate), saturated to 0..255
    return cv2.addWeighted(image, factor, degenerate, 1.0 - factor, 0.0)


def hue_saturation(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add U{-50..50} to hue and (independently) to saturation, hue on imgaug's 0..255 scale."""
    _check(image)
    add_hue, add_sat = (int(v) for v in rng.integers(-50, 51, size=2))
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)  # OpenCV hue is 0..179
    hue_table = np.mod(np.rint(_LEVELS + add_hue * (180.0 / 255.0)), 180).astype(np.uint8)
    hsv[..., 0] = cv2.LUT(hsv[..., 0], hue_table)
    hsv[..., 1] = cv2.LUT(hsv[..., 1], _lut(_LEVELS + add_sat))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def solarize(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """With probability 0.5 invert every value >= threshold, threshold ~ U{32..128}; else copy."""
    _check(image)
    apply = rng.random() < 0.5
    threshold = int(rng.integers(32, 129))
    if not apply:
        return image.copy()
    table = np.where(_LEVELS >= threshold, 255 - _LEVELS, _LEVELS).astype(np.uint8)
    return cv2.LUT(image, table)


def posterize(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Keep the ``bits`` most significant bits of every value, bits ~ U{1..8}."""
    _check(image)
    bits = int(rng.integers(1, 9))
    keep = np.uint8((0xFF << (8 - bits)) & 0xFF)
    return np.bitwise_and(image, keep)


def invert(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # noqa: ARG001 - uniform API
    """255 - value."""
    _check(image)
    return cv2.bitwise_not(image)


def autocontrast(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """PIL ``ImageOps.autocontrast`` per channel with cutoff ~ U{0..20} % clipped at each end."""
    _check(image)
    cutoff = int(rng.integers(0, 21))
    n = image.shape[0] * image.shape[1]
    cut = n * cutoff / 100.0
    tables = []
    for c in range(3):
        hist = cv2.calcHist([image], [c], None, [256], [0, 256]).ravel()
        low_cum = np.cumsum(hist)
        high_cum = np.cumsum(hist[::-1])[::-1]
        lo_candidates = np.flatnonzero(low_cum > cut)
        hi_candidates = np.flatnonzero(high_cum > cut)
        lo = int(lo_candidates[0]) if lo_candidates.size else 0
        hi = int(hi_candidates[-1]) if hi_candidates.size else 255
        if hi <= lo:
            tables.append(np.arange(256, dtype=np.uint8))
            continue
        scale = 255.0 / (hi - lo)
        tables.append(np.clip(np.floor((_LEVELS - lo) * scale), 0, 255).astype(np.uint8))
    return cv2.LUT(image, np.stack(tables, axis=-1).reshape(1, 256, 3))


def equalize(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # noqa: ARG001
    """Histogram equalisation of each channel independently."""
    _check(image)
    return cv2.merge([cv2.equalizeHist(image[..., c]) for c in range(3)])


def affine(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate about the centre by U(-45, 45) degrees, same size, black border, bilinear."""
    _check(image)
    return rotate_image(image, rng.uniform(-45.0, 45.0))


AUGMENTERS: dict[str, Augmenter] = {
    "gamma_contrast": gamma_contrast,
    "multiply_add_brightness": multiply_add_brightness,
    "sharpness": sharpness,
    "hue_saturation": hue_saturation,
    "solarize": solarize,
    "posterize": posterize,
    "invert": invert,
    "autocontrast": autocontrast,
    "equalize": equalize,
    "affine": affine,
}
_NAMES = tuple(AUGMENTERS)


def random_augment(image: np.ndarray, rng: np.random.Generator, n: int = 3) -> tuple[np.ndarray, list[str]]:
    """Apply ``n`` distinct augmenters, drawn without replacement in random order, in sequence.

    Returns the augmented uint8 image and the names used, in the order applied.
    """
    _check(image)
    if not 0 <= n <= len(_NAMES):
        raise ValueError(f"n must be in 0..{len(_NAMES)}, got {n}")
    names = [_NAMES[int(i)] for i in rng.choice(len(_NAMES), size=n, replace=False)]
    out = image
    for name in names:
        out = AUGMENTERS[name](out, rng)
    if out is image:
        out = image.copy()
    return out, names
