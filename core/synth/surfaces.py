"""Normal surfaces for training the base model: data that may ship with the product.

The base model (see ``core.training.warmstart``) learns, once, what reconstructing a
normal surface and telling a defect from it look like; per-part training starts from it.
It never sees a customer's or a benchmark's images. Its normal images come from:

* the procedural texture families of :mod:`core.synth.textures`, made to look like
  surfaces under a camera (lower contrast, grey or colour, illumination gradient, noise);
* the simulated production line of :mod:`core.camera.sim.line` (good parts only);
* any folder of images the caller passes (the project uses the CC0 textures that ship in
  the scikit-image wheel: see ``resources/base/README.md``).

``SurfaceSource.pair(size, rng)`` returns two float32 HxWx3 images in [0, 1] of the same
surface (the sample and a donor for the ``patch`` defect kind), like two crops of one part.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.synth.textures import ProceduralTextures

__all__ = ["SurfaceSource", "CC0_TEXTURES", "extract_cc0"]

CC0_TEXTURES = ("brick.png", "grass.png", "gravel.png")  # scikit-image: CC0 (see its data docs)


def extract_cc0(wheel: str | Path, folder: str | Path) -> Path:
    """Copy the CC0 textures out of a scikit-image wheel into ``folder``; ValueError naming
    the wheel if it is not one that holds them."""
    import zipfile

    folder = Path(folder)
    try:
        with zipfile.ZipFile(wheel) as zf:
            for name in CC0_TEXTURES:
                (folder / name).write_bytes(zf.read(f"skimage/data/{name}"))
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{wheel}: not a scikit-image wheel with its CC0 textures ({exc})") from None
    return folder


def _photometric(img: np.ndarray, rng: np.random.Generator, gray: bool) -> np.ndarray:
    """Camera-like look: contrast, brightness, optional grey, illumination gradient, noise."""
    if gray:
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    mean = img.mean(axis=(0, 1), keepdims=True)
    img = mean + (img - mean) * np.float32(rng.uniform(0.15, 1.0))
    img = img * np.float32(rng.uniform(0.5, 1.3)) + np.float32(rng.uniform(-0.15, 0.15))
    h, w = img.shape[:2]
    if rng.random() < 0.5:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(a) * x / w + np.sin(a) * y / h) * np.float32(rng.uniform(0.0, 0.3))
        img = img + ramp[..., None]
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.4, 1.2)))
    if rng.random() < 0.6:
        noise = rng.normal(0.0, rng.uniform(0.003, 0.03), size=(h, w, 1)).astype(np.float32)
        img = img + noise
    return np.clip(img, 0.0, 1.0).astype(np.float32, copy=False)


class SurfaceSource:
    """Draws normal surfaces from procedural textures, the simulated line and image files."""

    def __init__(self, image_folders: list[str | Path] | None = None, sim_frames: int = 48,
                 weights: tuple[float, float, float] = (0.5, 0.2, 0.3), seed: int = 0) -> None:
        self.procedural = ProceduralTextures()
        self.images: list[np.ndarray] = []
        for folder in image_folders or []:
            for p in sorted(Path(folder).iterdir()):
                img = cv2.imread(str(p), cv2.IMREAD_COLOR)
                if img is not None and min(img.shape[:2]) >= 64:
                    self.images.append(img.astype(np.float32) / 255.0)
        self.sim = self._render_sim(sim_frames, seed) if sim_frames else []
        w = np.array(weights, float)
        if not self.sim:
            w[1] = 0
        if not self.images:
            w[2] = 0
        self.weights = w / w.sum()

    @staticmethod
    def _render_sim(n: int, seed: int) -> list[np.ndarray]:
        from core.camera.sim.line import SimLineConfig, SimLineRenderer
        from core.camera.sim.render import MATERIALS, SHAPES

        frames = []
        for i in range(n):
            cfg = SimLineConfig(seed=seed + i, width=384, height=384, defect_rate=0.0,
                                material=MATERIALS[i % len(MATERIALS)], shape=SHAPES[(i // 2) % len(SHAPES)],
                                color=bool(i % 3))
            img, _ = SimLineRenderer(cfg).render(i)
            if img.ndim == 2:
                img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
            frames.append(img[:, :, :3].astype(np.float32) / 255.0)
        return frames

    def pair(self, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        kind = int(rng.choice(3, p=self.weights))
        gray = rng.random() < 0.5
        if kind == 0:
            tex = self.procedural.sample((size, 2 * size), rng).astype(np.float32) / 255.0
            seed = int(rng.integers(2**63))
            return (_photometric(np.ascontiguousarray(tex[:, :size]), np.random.default_rng(seed), gray),
                    _photometric(np.ascontiguousarray(tex[:, size:]), np.random.default_rng(seed), gray))
        src = self.sim[int(rng.integers(len(self.sim)))] if kind == 1 else \
            self.images[int(rng.integers(len(self.images)))]
        scale = float(np.exp(rng.uniform(np.log(0.3), np.log(1.2)))) if kind == 2 else 1.0
        if scale != 1.0:
            src = cv2.resize(src, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if min(src.shape[:2]) < size:
            src = cv2.resize(src, (max(size, src.shape[1]), max(size, src.shape[0])))
        k = int(rng.integers(4))
        src = np.rot90(src, k) if k else src
        seed = int(rng.integers(2**63))
        out = []
        for _ in range(2):
            h, w = src.shape[:2]
            y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
            crop = np.ascontiguousarray(src[y:y + size, x:x + size])
            out.append(_photometric(crop, np.random.default_rng(seed), gray))
        return out[0], out[1]
