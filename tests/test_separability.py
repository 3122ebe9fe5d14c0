"""The separability probe: does the model tell held-out good images from synthetic defects?"""

import numpy as np
import torch
from torch import nn

from core.synth import ProceduralTextures
from core.synth.simulator import simulator_for
from core.training.separability import make_probe, verdict


class DarkSpotDetector(nn.Module):
    """A stand-in model that 'detects' pixels much darker than the grey surface."""

    def forward(self, x):
        dark = (0.45 - x.mean(1, keepdim=True)).clamp(min=0) * 200
        return x, torch.cat([torch.zeros_like(dark), dark], 1)


class Blind(nn.Module):
    """Gives every pixel the same logits: a model that learnt nothing."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        z = torch.zeros_like(x[:, :2]) + self.w
        return x, z


def _images(n=8, size=64):
    rng = np.random.default_rng(0)
    return [np.clip(128 + rng.normal(0, 3, (size, size, 3)), 0, 255).astype(np.uint8) for _ in range(n)]


META = {"image_size": [64, 64]}


def _sim():
    sim = simulator_for("defects", ProceduralTextures())
    sim.kinds, sim.weights = ("pit",), np.ones(1)  # dark pits only: what the detector sees
    return sim


def test_a_model_that_sees_the_defects_separates():
    probe = make_probe(_images(), _sim(), META, seed=1)
    result = probe(DarkSpotDetector())
    assert result["images"] == 8 and result["auroc"] > 0.9
    assert verdict(result)[0]


def test_a_model_that_gives_one_score_to_everything_is_flagged():
    result = make_probe(_images(), _sim(), META, seed=1)(Blind())
    assert result["spread"] == 0.0
    separates, why = verdict(result)
    assert not separates and "same score" in why


def test_probe_images_are_the_same_at_every_call():
    probe = make_probe(_images(), _sim(), META, seed=1)
    assert probe(DarkSpotDetector()) == probe(DarkSpotDetector())


def test_tiles_mode_probe_scores_images_of_any_size():
    meta = {"image_size": [64, 64], "input": {"mode": "tiles", "scale": 1.0, "overlap": 16}}
    images = [im[:50, :] for im in _images(size=100)]  # 50 x 100, not a tile size
    result = make_probe(images, _sim(), meta, seed=2)(DarkSpotDetector())
    assert result["images"] == 8 and result["auroc"] > 0.8  # a faint pit or two may be missed


def test_no_held_out_images_is_reported_as_not_measured():
    assert verdict(None) == (False, "not measured (no held-out good images)")
