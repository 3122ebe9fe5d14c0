"""Anomaly texture sources: a folder of images (e.g. DTD, as in the paper) or a procedural generator.

``FolderTextures`` decodes lazily with a small LRU cache and resizes each pick to the requested size
(as the official code does). ``ProceduralTextures`` needs no files, so training also works offline
and in a shipped product that may not carry third-party images. This module is a little over 300
lines because the procedural families belong together and share small helpers.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

import cv2
import numpy as np

from core.synth.perlin import rand_perlin_2d

__all__ = ["TextureSource", "FolderTextures", "ProceduralTextures", "make_texture_source",
           "IMAGE_SUFFIXES"]

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


@runtime_checkable
class TextureSource(Protocol):
    """Anything that can hand out anomaly textures."""

    def sample(self, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Return a uint8 HxWx3 BGR texture of exactly ``size`` = (H, W)."""
        ...


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"texture size must be (H, W) positive ints, got {size!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"texture size must be (H, W) positive ints, got {size!r}")
    return h, w


class FolderTextures:
    """Images found recursively under ``folder`` (png/jpg/jpeg/bmp/tif/tiff), picked uniformly.

    Files whose header is not an image are skipped at construction; files that fail to decode
    are skipped when first picked. Both end up in ``skipped`` as ``(path, reason)`` and are logged.
    """

    def __init__(self, folder: str | os.PathLike, cache_size: int = 32) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f"texture folder {self.folder} does not exist or is not a folder")
        self.skipped: list[tuple[Path, str]] = []
        self.files: list[Path] = []
        for path in sorted(p for p in self.folder.rglob("*")
                           if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
            reason = self._header_problem(path)
            if reason:
                self._skip(path, reason)
            else:
                self.files.append(path)
        if not self.files:
            extra = f" ({len(self.skipped)} unreadable files skipped)" if self.skipped else ""
            raise ValueError(f"no usable texture images (png/jpg/jpeg/bmp/tif/tiff) found in "
                             f"{self.folder}{extra}")
        self.cache_size = max(1, int(cache_size))
        self._cache: OrderedDict[Path, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self.files)

    def __repr__(self) -> str:
        return f"FolderTextures({str(self.folder)!r}, {len(self.files)} images)"

    def __getstate__(self) -> dict:  # keep pickles (DataLoader workers) small: drop the cache
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        return state

    @staticmethod
    def _header_problem(path: Path) -> str | None:
        try:
            with open(path, "rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            return f"cannot open: {exc}"
        if not head:
            return "empty file"
        if not head.startswith(_MAGIC):
            return "not a recognised image (bad header)"
        return None

    def _skip(self, path: Path, reason: str) -> None:
        self.skipped.append((path, reason))
        log.warning("skipping texture %s: %s", path, reason)

    def _load(self, path: Path) -> np.ndarray | None:
        img = self._cache.get(path)
        if img is not None:
            self._cache.move_to_end(path)
            return img
        from core.io.images import ImageReadError, check_image_header

        try:  # np.fromfile + imdecode also handles non-ASCII paths on Windows
            data = np.fromfile(path, dtype=np.uint8)
            check_image_header(path, data.tobytes())  # no pixel bombs: size from the header
            img = cv2.imdecode(data, cv2.IMREAD_COLOR)
        except ImageReadError as exc:
            self._skip(path, exc.problem)
            return None
        except (OSError, cv2.error, MemoryError) as exc:
            self._skip(path, f"cannot read: {exc}")
            return None
        if img is None or img.size == 0:
            self._skip(path, "cannot decode image data")
            return None
        self._cache[path] = img
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return img

    def sample(self, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """A uniformly picked image resized (stretched, like the official code) to ``size``."""
        h, w = _check_size(size)
        while self.files:
            idx = int(rng.integers(len(self.files)))
            img = self._load(self.files[idx])
            if img is None:
                del self.files[idx]
                continue
            if img.shape[:2] == (h, w):
                return img.copy()
            return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
        raise ValueError(f"no decodable texture images left in {self.folder}; skipped: "
                         + "; ".join(f"{p.name}: {r}" for p, r in self.skipped[:5]))


# ----------------------------------------------------------------------------- procedural


def _colors(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 3)).astype(np.float32)


def _palette(t: np.ndarray, rng: np.random.Generator, n_colors: int | None = None) -> np.ndarray:
    """Map a field ``t`` in [0, 1] through a random 2..4-stop colour ramp -> uint8 HxWx3."""
    k = int(rng.integers(2, 5)) if n_colors is None else n_colors
    stops = np.sort(rng.random(k))
    stops[0], stops[-1] = 0.0, 1.0
    cols = _colors(rng, k)
    levels = np.linspace(0.0, 1.0, 256)
    lut = np.stack([np.interp(levels, stops, cols[:, c]) for c in range(3)], axis=-1)
    idx = np.clip(t * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return lut.astype(np.uint8)[idx]


def _normalize(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return ((x - lo) / (hi - lo)).astype(np.float32) if hi > lo else np.zeros_like(x, np.float32)


def _value_noise(h: int, w: int, rng: np.random.Generator, cells: int, octaves: int = 1) -> np.ndarray:
    """Fractal value noise (bicubic-upscaled random lattices) normalised to [0, 1]."""
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for o in range(octaves):
        c = cells * 2 ** o
        grid = rng.random((min(c, h) + 1, min(c, w) + 1)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        amp *= 0.5
    return _normalize(out)


def _fractal_perlin(h: int, w: int, rng: np.random.Generator, base: int, octaves: int) -> np.ndarray:
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for o in range(octaves):
        r = base * 2 ** o
        out += amp * rand_perlin_2d((h, w), (min(r, h), min(r, w)), rng)
        amp *= 0.5
    return _normalize(out)


def _coords(h: int, w: int, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates rotated by ``angle`` radians (u along the stripes' normal)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    return x * c + y * s, -x * s + y * c


def _fam_noise(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        t = _fractal_perlin(h, w, rng, base=int(2 ** rng.integers(0, 4)), octaves=int(rng.integers(2, 5)))
    else:
        t = _value_noise(h, w, rng, cells=int(rng.integers(2, 24)), octaves=int(rng.integers(1, 5)))
    return _palette(t, rng)


def _fam_stripes(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    u, _ = _coords(h, w, rng.uniform(0, np.pi))
    period = rng.uniform(4.0, max(5.0, max(h, w) / 2.0))
    warp = _value_noise(h, w, rng, cells=int(rng.integers(2, 8))) * rng.uniform(0.0, 2.0 * period)
    phase = (u + warp) / period + rng.random()
    wave = 0.5 + 0.5 * np.sin(2.0 * np.pi * phase)
    if rng.random() < 0.5:  # hard bands of random duty cycle
        wave = (wave > rng.uniform(0.2, 0.8)).astype(np.float32)
    return _palette(wave, rng, n_colors=int(rng.integers(2, 4)))


def _fam_checker(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    u, v = _coords(h, w, rng.uniform(0, np.pi / 2))
    cell = rng.uniform(4.0, max(5.0, max(h, w) / 3.0))
    cu, cv = np.floor(u / cell), np.floor(v / cell)
    if rng.random() < 0.5:
        t = np.mod(cu + cv, 2.0)
    else:  # grid lines
        thick = rng.uniform(0.05, 0.35)
        t = ((np.mod(u / cell, 1.0) < thick) | (np.mod(v / cell, 1.0) < thick)).astype(np.float32)
    return _palette(t.astype(np.float32), rng, n_colors=2)


def _fam_voronoi(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(6, 120))
    seeds = np.full((h, w), 255, np.uint8)
    seeds[rng.integers(0, h, n), rng.integers(0, w, n)] = 0
    _, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    base = _colors(rng, 1)
    spread = rng.uniform(20, 120)
    table = np.clip(base + rng.normal(0.0, spread, size=(labels.max() + 1, 3)), 0, 255).astype(np.uint8)
    img = table[labels]
    if rng.random() < 0.6:  # dark or bright cell borders
        edge = (labels != np.roll(labels, 1, axis=0)) | (labels != np.roll(labels, 1, axis=1))
        edge = cv2.dilate(edge.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
        img[edge] = _colors(rng, 1).astype(np.uint8)
    return img


def _fam_cracks(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = _palette(_value_noise(h, w, rng, cells=int(rng.integers(2, 10)), octaves=2), rng, n_colors=2)
    color = tuple(int(c) for c in _colors(rng, 1)[0])
    step = max(h, w) / rng.uniform(15, 40)
    for _ in range(int(rng.integers(2, 12))):
        pts = np.empty((int(rng.integers(8, 40)), 2), np.float32)
        pts[0] = rng.uniform(0, w), rng.uniform(0, h)
        heading = rng.uniform(0, 2 * np.pi)
        for i in range(1, len(pts)):
            heading += rng.normal(0.0, 0.5)
            pts[i] = pts[i - 1] + step * np.array([np.cos(heading), np.sin(heading)])
        cv2.polylines(img, [np.rint(pts).astype(np.int32)], False, color,
                      thickness=int(rng.integers(1, 4)), lineType=cv2.LINE_AA)
    return img


def _fam_blotches(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = np.empty((h, w, 3), np.uint8)
    img[:] = _colors(rng, 1).astype(np.uint8)
    for _ in range(int(rng.integers(5, 60))):
        center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(2, max(3, w // 4))), int(rng.integers(2, max(3, h // 4))))
        cv2.ellipse(img, center, axes, rng.uniform(0, 180), 0, 360,
                    tuple(int(c) for c in _colors(rng, 1)[0]), -1, cv2.LINE_AA)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 4.0))
    density = rng.uniform(0.0, 0.15)  # speckle: salt-and-pepper dots
    speck = rng.random((h, w)) < density
    img[speck] = np.where(rng.random((int(speck.sum()), 1)) < 0.5, 0, 255).astype(np.uint8)
    return img


def _fam_wood(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    cy, cx = rng.uniform(-h, 2 * h), rng.uniform(-w, 2 * w)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    sy, sx = rng.uniform(0.2, 1.0, size=2)  # elliptical rings
    r = np.sqrt(((y - cy) * sy) ** 2 + ((x - cx) * sx) ** 2)
    period = rng.uniform(4.0, max(5.0, max(h, w) / 6.0))
    distort = _value_noise(h, w, rng, cells=int(rng.integers(2, 8)), octaves=2) * rng.uniform(0.5, 3) * period
    t = np.mod((r + distort) / period, 1.0) ** rng.uniform(0.5, 3.0)
    return _palette(t.astype(np.float32), rng, n_colors=int(rng.integers(2, 4)))


def _fam_brushed(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    noise = rng.random((h, w)).astype(np.float32)
    k = int(rng.integers(9, 61))
    streaks = cv2.blur(noise, (k, 1))
    streaks = cv2.warpAffine(streaks, cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(0, 180), 1.5),
                             (w, h), borderMode=cv2.BORDER_REFLECT)
    t = 0.6 * _normalize(streaks) + 0.4 * _value_noise(h, w, rng, cells=int(rng.integers(1, 4)))
    t = np.clip((t - 0.5) * rng.uniform(1.5, 3.0) + 0.5, 0.0, 1.0)  # streaks are low-contrast
    return _palette(t, rng, n_colors=2)


_FAMILIES: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "noise": _fam_noise, "stripes": _fam_stripes, "checker": _fam_checker,
    "voronoi": _fam_voronoi, "cracks": _fam_cracks, "blotches": _fam_blotches,
    "wood": _fam_wood, "brushed": _fam_brushed,
}


class ProceduralTextures:
    """Built-in texture generator: no files needed; deterministic under the passed rng.

    Families: fractal Perlin/value noise through random colour ramps, (warped) stripes and bands,
    checkerboards and grids, Voronoi cells, crack/line networks, blotches with speckle, wood-like
    rings and brushed-metal streaks, each with random colours and scales.
    """

    FAMILIES: tuple[str, ...] = tuple(_FAMILIES)

    def __init__(self, families: tuple[str, ...] | list[str] | None = None) -> None:
        chosen = tuple(families) if families is not None else self.FAMILIES
        unknown = [f for f in chosen if f not in _FAMILIES]
        if unknown or not chosen:
            raise ValueError(f"unknown or empty texture families {unknown or chosen!r}; "
                             f"choose from {', '.join(self.FAMILIES)}")
        self.families = chosen

    def __repr__(self) -> str:
        return f"ProceduralTextures(families={self.families!r})"

    def sample_family(self, family: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """One texture of the named family, uint8 HxWx3 of exactly ``size``."""
        if family not in _FAMILIES:
            raise ValueError(f"unknown texture family {family!r}; choose from {', '.join(self.FAMILIES)}")
        h, w = _check_size(size)
        return np.ascontiguousarray(_FAMILIES[family](h, w, rng), dtype=np.uint8)

    def sample(self, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        family = self.families[int(rng.integers(len(self.families)))]
        return self.sample_family(family, size, rng)


def make_texture_source(folder: str | os.PathLike | None) -> TextureSource:
    """``FolderTextures(folder)`` for a folder, ``ProceduralTextures()`` for None."""
    if folder is None or (isinstance(folder, str) and not folder.strip()):
        return ProceduralTextures()
    return FolderTextures(folder)
