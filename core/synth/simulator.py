"""DRAEM anomaly simulation: paste an augmented texture into a normal image through a Perlin mask.

Mirrors ``MVTecDRAEMTrainDataset.transform_image`` / ``augment_image`` of the official code:
the normal image is rotated by U(-90, 90) degrees with probability 0.3, then with probability 0.5
it stays normal, otherwise ``augmented = image*(1-m) + (1-beta)*texture*m + beta*image*m``
with ``beta ~ U(0, 0.8)``. The only randomness is the ``np.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from core.synth.augment import random_augment
from core.synth.defects import DEFECT_KINDS, visible
from core.synth.perlin import perlin_mask, rotate_image
from core.synth.textures import TextureSource

__all__ = ["SimSample", "AnomalySimulator", "RECIPES", "simulator_for"]

# The anomaly recipes a preset or a recipe can name. "paper": the paper's Perlin x texture
# only, with its rotations. "defects": the paper's kind for 30 % of the anomalies, the
# defect-like kinds of core.synth.defects for the rest, and flips instead of rotations (a
# rotated part with black corners is not a normal part). Same weights for every data set.
RECIPES: dict[str, dict] = {
    "paper": {"kinds": None, "rotate_prob": 0.3, "flip": False},
    "defects": {"kinds": {"texture": 0.3, "crack": 0.15, "scratch": 0.1, "pit": 0.15, "stain": 0.15,
                          "patch": 0.15}, "rotate_prob": 0.0, "flip": True},
}


@dataclass
class SimSample:
    """One training sample. ``beta`` and ``augmenters`` are debug information (0.0 / () if normal)."""

    image: np.ndarray       # float32 HxWx3 [0,1]: (possibly rotated) normal image = reconstruction target
    augmented: np.ndarray   # float32 HxWx3 [0,1]: network input
    mask: np.ndarray        # float32 HxW {0,1}
    has_anomaly: float      # 1.0 / 0.0
    beta: float = 0.0       # opacity of the normal image inside the mask
    augmenters: tuple[str, ...] = field(default_factory=tuple)  # names applied to the texture
    kind: str = ""          # "texture" (the paper's) or a kind of core.synth.defects; "" if normal


def _check_prob(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


class AnomalySimulator:
    """Callable ``(image, rng) -> SimSample`` producing DRAEM's simulated anomalies.

    ``grayscale=True`` turns the texture grey (replicated to 3 channels) before blending, so
    grayscale products never receive coloured anomalies. ``kinds`` maps anomaly kinds
    ("texture" and the names of :data:`core.synth.defects.DEFECT_KINDS`) to weights; None is
    the paper's texture kind alone. ``flip`` mirrors the normal image at random both ways.
    """

    def __init__(self, textures: TextureSource, *, rotate_prob: float = 0.3,
                 anomaly_prob: float = 0.5, beta_max: float = 0.8, grayscale: bool = False,
                 kinds: dict[str, float] | None = None, flip: bool = False) -> None:
        if not callable(getattr(textures, "sample", None)):
            raise TypeError(f"textures must have a sample(size, rng) method, got {type(textures).__name__}")
        self.textures = textures
        self.rotate_prob = _check_prob("rotate_prob", rotate_prob)
        self.anomaly_prob = _check_prob("anomaly_prob", anomaly_prob)
        self.beta_max = _check_prob("beta_max", beta_max)
        self.grayscale = bool(grayscale)
        self.flip = bool(flip)
        self.kinds: tuple[str, ...] = ()
        self.weights = np.ones(0)
        if kinds is not None:
            unknown = sorted(set(kinds) - {"texture", *DEFECT_KINDS})
            w = np.array([float(kinds[k]) for k in kinds], float)
            if unknown or not len(w) or (w < 0).any() or w.sum() <= 0:
                raise ValueError(f"anomaly kinds must map texture, {', '.join(DEFECT_KINDS)} to "
                                 f"non-negative weights, got {kinds!r}")
            self.kinds, self.weights = tuple(kinds), w / w.sum()

    def __repr__(self) -> str:
        return (f"AnomalySimulator({self.textures!r}, rotate_prob={self.rotate_prob}, "
                f"anomaly_prob={self.anomaly_prob}, beta_max={self.beta_max}, grayscale={self.grayscale}, "
                f"kinds={dict(zip(self.kinds, self.weights.round(3).tolist())) or None}, flip={self.flip})")

    @staticmethod
    def _check_image(image: np.ndarray) -> np.ndarray:
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
            got = f"shape {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise ValueError(f"simulator needs a float HxWx3 image in [0, 1], got {got}")
        if not np.issubdtype(image.dtype, np.floating):
            raise ValueError(f"simulator needs a float image in [0, 1], got dtype {image.dtype} "
                             "(divide uint8 images by 255)")
        return np.ascontiguousarray(image, dtype=np.float32)

    def __call__(self, image: np.ndarray, rng: np.random.Generator,
                 donor: np.ndarray | None = None) -> SimSample:
        """One sample; ``donor`` (another good image, the same size) feeds the patch kind."""
        image = self._check_image(image)
        h, w = image.shape[:2]
        if self.flip:
            if rng.random() < 0.5:
                image = image[:, ::-1]
            if rng.random() < 0.5:
                image = image[::-1]
            image = np.ascontiguousarray(image)
        if rng.random() < self.rotate_prob:
            image = rotate_image(image, rng.uniform(-90.0, 90.0))
        # The official code builds the anomaly first and discards it for normal samples; deciding
        # first gives the same distribution and skips the work for half of the samples.
        if rng.random() >= self.anomaly_prob:
            return SimSample(image=image, augmented=image.copy(),
                             mask=np.zeros((h, w), np.float32), has_anomaly=0.0)

        kind = "texture"
        if self.kinds:
            kind = self.kinds[int(rng.choice(len(self.kinds), p=self.weights))]
        if kind != "texture":
            if donor is not None:
                donor = self._check_image(donor)
            augmented, mask = DEFECT_KINDS[kind](image, rng, donor)
            mask = visible(image, augmented, mask)
            has = 1.0 if mask.any() else 0.0
            return SimSample(image=image, augmented=augmented if has else image.copy(), mask=mask,
                             has_anomaly=has, kind=kind if has else "")
        texture = self.textures.sample((h, w), rng)
        if texture.shape != (h, w, 3) or texture.dtype != np.uint8:
            raise ValueError(f"texture source {self.textures!r} returned {texture.dtype} "
                             f"{texture.shape}, expected uint8 {(h, w, 3)}")
        texture, names = random_augment(texture, rng)
        if self.grayscale:
            texture = cv2.cvtColor(cv2.cvtColor(texture, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        mask = perlin_mask((h, w), rng)
        beta = float(rng.uniform(0.0, self.beta_max))

        m = mask[..., None]
        tex = texture.astype(np.float32) * np.float32(1.0 / 255.0)
        augmented = image * (1.0 - m) + (1.0 - beta) * tex * m + beta * image * m
        np.clip(augmented, 0.0, 1.0, out=augmented)
        has_anomaly = 1.0 if mask.any() else 0.0
        return SimSample(image=image, augmented=augmented.astype(np.float32, copy=False), mask=mask,
                         has_anomaly=has_anomaly, beta=beta, augmenters=tuple(names), kind="texture")


def simulator_for(recipe: str, textures: TextureSource, grayscale: bool = False) -> AnomalySimulator:
    """The simulator of an anomaly recipe ("paper" or "defects", see :data:`RECIPES`)."""
    try:
        r = RECIPES[recipe]
    except KeyError:
        raise ValueError(f"unknown anomaly recipe {recipe!r} (choose from {', '.join(RECIPES)})") from None
    return AnomalySimulator(textures, rotate_prob=r["rotate_prob"], grayscale=grayscale,
                            kinds=r["kinds"], flip=r["flip"])
