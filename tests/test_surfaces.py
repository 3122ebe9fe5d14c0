"""The base model's normal surfaces (core.synth.surfaces) and its dataset."""

import cv2
import numpy as np
import torch

from core.synth import ProceduralTextures
from core.synth.simulator import simulator_for
from core.synth.surfaces import SurfaceSource
from core.training.data import SurfaceDataset


def _folder(tmp_path):
    rng = np.random.default_rng(0)
    cv2.imwrite(str(tmp_path / "a.png"), rng.integers(0, 255, (200, 160, 3), dtype=np.uint8))
    (tmp_path / "broken.png").write_bytes(b"not an image")
    cv2.imwrite(str(tmp_path / "small.png"), np.zeros((20, 20, 3), np.uint8))  # too small: skipped
    return tmp_path


def test_sources_are_weighted_by_what_is_there(tmp_path):
    only_procedural = SurfaceSource([], sim_frames=0)
    assert only_procedural.weights.tolist() == [1.0, 0.0, 0.0]
    both = SurfaceSource([_folder(tmp_path)], sim_frames=2)
    assert len(both.images) == 1 and len(both.sim) == 2
    assert np.isclose(both.weights.sum(), 1.0) and (both.weights > 0).all()


def test_pair_is_two_crops_of_one_surface_and_deterministic(tmp_path):
    src = SurfaceSource([_folder(tmp_path)], sim_frames=2, seed=3)
    for k in range(12):
        a, b = src.pair(64, np.random.default_rng(k))
        a2, b2 = src.pair(64, np.random.default_rng(k))
        assert a.shape == b.shape == (64, 64, 3) and a.dtype == np.float32
        assert 0.0 <= a.min() and a.max() <= 1.0
        assert np.array_equal(a, a2) and np.array_equal(b, b2)
    # different draws differ
    assert not np.array_equal(src.pair(64, np.random.default_rng(0))[0],
                              src.pair(64, np.random.default_rng(1))[0])


def test_surface_dataset_items_are_training_samples():
    sim = simulator_for("defects", ProceduralTextures())
    ds = SurfaceDataset(SurfaceSource([], sim_frames=0), sim, seed=1, crop=64)
    item = ds[5]
    assert item["image"].shape == item["augmented"].shape == (3, 64, 64)
    assert item["mask"].shape == (1, 64, 64) and item["has_anomaly"].shape == (1,)
    assert all(torch.equal(item[k], ds[5][k]) for k in item)
    flags = [float(ds[k]["has_anomaly"]) for k in range(40)]
    assert 0 < sum(flags) < 40          # both normal and anomalous samples are drawn
    for k in range(40):
        s = ds[k]
        if float(s["has_anomaly"]):
            assert s["mask"].sum() > 0
        else:
            assert s["mask"].sum() == 0 and torch.equal(s["image"], s["augmented"])
