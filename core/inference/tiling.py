"""Native-resolution inference by tiles.

A model bundle says how a frame reaches the network (``meta["input"]``):

* ``{"mode": "resize"}`` (every bundle made before tiles existed): the frame is squashed
  to ``image_size``, the network's input, as the paper does;
* ``{"mode": "tiles", "scale": s, "overlap": o}``: the frame is scaled by ``s`` keeping its
  aspect (1.0: the camera's own pixels, so a 2-pixel crack stays 2 pixels), cut into
  ``image_size`` tiles that overlap by ``o`` pixels, and the tiles' anomaly maps are put
  back together. Each pixel of the frame takes its value from exactly one tile, the one
  whose centre is nearest along each axis, so a pixel never sees a tile's border when an
  inner tile covers it. A frame smaller than a tile is padded by reflection.

The image score is the same in both modes: the maximum of the anomaly map mean-filtered
over ``kernel`` x ``kernel`` pixels of the network's input scale (21 at 256 x 256).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["InputSpec", "TileGrid", "axis_origins", "mean_filter_max", "pad_to"]

MODES = ("resize", "tiles")
DEFAULT_OVERLAP = 32
MIN_SCALE, MAX_SCALE = 0.05, 4.0


def default_overlap(tile: tuple[int, int]) -> int:
    """32 pixels, or a quarter of a smaller tile."""
    return min(DEFAULT_OVERLAP, min(tile) // 4)


@dataclass(frozen=True)
class InputSpec:
    mode: str = "resize"
    scale: float = 1.0
    overlap: int = DEFAULT_OVERLAP

    @classmethod
    def from_meta(cls, meta: dict) -> "InputSpec":
        raw = meta.get("input") or {}
        if not isinstance(raw, dict):
            raise ValueError(f"model metadata 'input' must be a table, got {raw!r}")
        tile = tuple(int(v) for v in meta["image_size"])
        try:
            spec = cls(str(raw.get("mode", "resize")), float(raw.get("scale", 1.0)),
                       int(raw.get("overlap", default_overlap(tile))))
        except (TypeError, ValueError):
            raise ValueError(f"model metadata 'input' has a non-numeric scale or overlap: {raw!r}") from None
        spec.validate(tile)
        return spec

    def validate(self, tile: tuple[int, int]) -> None:
        if self.mode not in MODES:
            raise ValueError(f"input mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not MIN_SCALE <= self.scale <= MAX_SCALE:  # NaN fails too
            raise ValueError(f"input scale must be in [{MIN_SCALE}, {MAX_SCALE}], got {self.scale}")
        if self.mode == "tiles" and not 0 <= self.overlap < min(tile) // 2:
            raise ValueError(f"tile overlap must be in [0, {min(tile) // 2 - 1}] for "
                             f"{tile[0]}x{tile[1]} tiles, got {self.overlap}")

    def to_meta(self) -> dict:
        return {"mode": self.mode, "scale": self.scale, "overlap": self.overlap}

    def scaled_size(self, shape: tuple[int, int]) -> tuple[int, int]:
        """(H, W) of a frame of ``shape`` once scaled (at least one pixel each way)."""
        h, w = shape[:2]
        return max(1, int(round(h * self.scale))), max(1, int(round(w * self.scale)))


def axis_origins(length: int, tile: int, overlap: int) -> list[int]:
    """Tile origins along one axis: the fewest tiles of ``tile`` pixels overlapping by at
    least ``overlap`` that cover ``length`` (one tile when the axis is not longer than it),
    spread evenly, the last one ending at the axis' end."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    n = -(-(length - tile) // stride) + 1
    return [int(round(i * (length - tile) / (n - 1))) for i in range(n)]


def _owners(origins: list[int], tile: int, length: int) -> list[tuple[int, int]]:
    """[start, stop) of the pixels each tile supplies: boundaries halfway through overlaps."""
    bounds = [0] + [(origins[i + 1] + origins[i] + tile) // 2 for i in range(len(origins) - 1)] + [length]
    return [(bounds[i], bounds[i + 1]) for i in range(len(origins))]


def pad_to(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` padded at the bottom and right to at least ``shape`` (H, W), by reflection
    (by repetition for a 1-pixel image); unchanged when it is that large already."""
    h, w = image.shape[:2]
    target = (max(h, int(shape[0])), max(w, int(shape[1])))
    ph, pw = target[0] - h, target[1] - w
    if not (ph or pw):
        return image
    if h < 2 or w < 2:
        return cv2.copyMakeBorder(image, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
    out = image
    while out.shape[0] < target[0] or out.shape[1] < target[1]:  # reflect may need rounds
        dh = min(target[0] - out.shape[0], out.shape[0] - 1)
        dw = min(target[1] - out.shape[1], out.shape[1] - 1)
        out = cv2.copyMakeBorder(out, 0, dh, 0, dw, cv2.BORDER_REFLECT_101)
    return out.reshape(target + image.shape[2:])


class TileGrid:
    """Splits an (H, W[, C]) array into ``tile`` x ``tile`` pieces and merges maps back."""

    def __init__(self, shape: tuple[int, int], tile: tuple[int, int], overlap: int) -> None:
        self.height, self.width = int(shape[0]), int(shape[1])
        self.tile = (int(tile[0]), int(tile[1]))
        if self.height < 1 or self.width < 1:
            raise ValueError(f"cannot tile an empty image ({self.height}x{self.width})")
        self.padded = (max(self.height, self.tile[0]), max(self.width, self.tile[1]))
        self.ys = axis_origins(self.padded[0], self.tile[0], overlap)
        self.xs = axis_origins(self.padded[1], self.tile[1], overlap)

    def __len__(self) -> int:
        return len(self.ys) * len(self.xs)

    def split(self, image: np.ndarray) -> np.ndarray:
        """(N, th, tw[, C]) tiles in row-major order."""
        if image.shape[:2] != (self.height, self.width):
            raise ValueError(f"image is {image.shape[:2]}, the grid was made for {(self.height, self.width)}")
        padded = pad_to(np.ascontiguousarray(image), self.padded)
        th, tw = self.tile
        return np.stack([padded[y:y + th, x:x + tw] for y in self.ys for x in self.xs])

    def merge(self, tiles: np.ndarray) -> np.ndarray:
        """(N, th, tw) maps -> (H, W): each pixel from the tile whose centre is nearest."""
        if len(tiles) != len(self):
            raise ValueError(f"expected {len(self)} tiles, got {len(tiles)}")
        th, tw = self.tile
        out = np.empty(self.padded, dtype=tiles.dtype)
        rows = _owners(self.ys, th, self.padded[0])
        cols = _owners(self.xs, tw, self.padded[1])
        k = 0
        for y, (r0, r1) in zip(self.ys, rows):
            for x, (c0, c1) in zip(self.xs, cols):
                out[r0:r1, c0:c1] = tiles[k, r0 - y:r1 - y, c0 - x:c1 - x]
                k += 1
        return out[:self.height, :self.width]


def mean_filter_max(amap: np.ndarray, kernel: int) -> float:
    """Max of the ``kernel`` x ``kernel`` mean of ``amap`` with zero padding: the same
    arithmetic as :func:`core.inference.scoring.image_scores` (``count_include_pad``)."""
    k = int(kernel)
    pooled = cv2.boxFilter(np.ascontiguousarray(amap, np.float32), -1, (k, k), normalize=True,
                           borderType=cv2.BORDER_CONSTANT)
    return float(pooled.max())
