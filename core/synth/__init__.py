"""DRAEM anomaly simulation (numpy + OpenCV): Perlin masks, texture sources, augmenters, simulator."""

from core.synth.augment import AUGMENTERS, random_augment
from core.synth.perlin import perlin_mask, rand_perlin_2d, rotate_image
from core.synth.simulator import AnomalySimulator, SimSample
from core.synth.textures import (
    FolderTextures,
    ProceduralTextures,
    TextureSource,
    make_texture_source,
)

__all__ = [
    "AUGMENTERS",
    "AnomalySimulator",
    "FolderTextures",
    "ProceduralTextures",
    "SimSample",
    "TextureSource",
    "make_texture_source",
    "perlin_mask",
    "rand_perlin_2d",
    "random_augment",
    "rotate_image",
]
