"""The simulated production line: determinism, defects and masks, features, trigger, faults."""

from __future__ import annotations

import ast
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.camera import Feature, Support
from core.camera.errors import CameraError, FeatureError, SourceLostError
from core.camera.sim.defects import DEFECT_TYPES
from core.camera.sim.line import SimLineConfig, SimLineSource


def test_same_seed_same_frames_other_seed_differs() -> None:
    a, b, c = SimLineSource(seed=4), SimLineSource(seed=4), SimLineSource(seed=5)
    for i in (0, 7):
        img_a, meta_a = a.render(i)
        img_b, meta_b = b.render(i)
        assert np.array_equal(img_a, img_b) and meta_a["defect_type"] == meta_b["defect_type"]
        assert np.array_equal(meta_a["defect_mask"], meta_b["defect_mask"])
    assert not np.array_equal(a.render(0)[0], c.render(0)[0])
    assert not np.array_equal(a.render(0)[0], a.render(1)[0])  # parts vary frame to frame


def test_image_looks_like_a_part_on_a_belt() -> None:
    image, meta = SimLineSource(seed=1, defect_rate=0.0).render(0)
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    centre, corner = image[96:160, 96:160].mean(), image[40:70, 5:35].mean()
    assert centre > corner + 30  # bright part on a dark belt
    assert 2.0 < image[100:130, 60:90].std() < 60.0  # textured, not flat, not noise soup
    assert meta["defect_type"] is None and not meta["defect_mask"].any()


@pytest.mark.parametrize("kind", DEFECT_TYPES)
def test_each_defect_has_a_mask_where_the_image_changed(kind: str) -> None:
    cfg = dict(seed=2, defect_rate=1.0, defect_types=(kind,), noise=0.0)
    defective = SimLineSource(**cfg)
    clean = SimLineSource(**{**cfg, "defect_rate": 0.0})
    for index in range(3):
        img, meta = defective.render(index)
        ref, _ = clean.render(index)  # same pose, lighting and noise; no defect
        mask = meta["defect_mask"] > 0
        assert meta["defect_type"] == kind and mask.shape == img.shape[:2]
        assert 5 <= mask.sum() < 0.05 * mask.size
        diff = np.abs(img.astype(int) - ref.astype(int)).max(axis=2)
        assert diff[mask].mean() > 8, (kind, index)  # visible inside the mask
        near = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        assert not (diff > 8)[~near].any(), (kind, index)  # and nowhere else


def test_defect_rate_is_respected_and_types_mix() -> None:
    source = SimLineSource(seed=0, defect_rate=0.3, width=96, height=96)
    kinds = [source.render(i)[1]["defect_type"] for i in range(150)]
    defective = [k for k in kinds if k]
    assert 27 <= len(defective) <= 63  # 45 expected, about 3 sigma either way
    assert set(Counter(defective)) == set(DEFECT_TYPES)


def test_config_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match="defect_rate"):
        SimLineSource(defect_rate=1.5)
    with pytest.raises(ValueError, match="'rust'"):
        SimLineSource(defect_types=("rust",))
    with pytest.raises(ValueError, match="unknown sim option.*colour"):
        SimLineConfig.from_options({"colour": "1"})
    with pytest.raises(ValueError, match="fps='fast'"):
        SimLineConfig.from_options({"fps": "fast"})
    cfg = SimLineConfig.from_options({"seed": "3", "width": "320", "defect_types": "dent|chip", "color": "0"})
    assert (cfg.seed, cfg.width, cfg.defect_types, cfg.color) == (3, 320, ("dent", "chip"), False)


def test_features_resolution_mono_exposure() -> None:
    source = SimLineSource(seed=1, defect_rate=0.0, noise=0.0)
    with source:
        caps = source.capabilities()
        assert caps.support(Feature.EXPOSURE) is Support.READ_WRITE
        assert caps.support(Feature.OFFSET_X) is Support.NONE
        bright = source.render(0)[0].mean()
        source.set_feature("exposure", 2500)
        assert source.render(0)[0].mean() < bright * 0.7
        source.set_feature("width", 320)
        source.set_feature("pixel_format", "Mono8")
        assert source.render(0)[0].shape == (256, 320)
        with pytest.raises(FeatureError, match=r"gain=99.0 out of range"):
            source.set_feature("gain", 99)
        with pytest.raises(FeatureError, match="BGR8 or Mono8"):
            source.set_feature("pixel_format", "RGB8")


def test_frame_rate_pacing_and_frame_ids() -> None:
    with SimLineSource(seed=0, fps=50) as source:
        source.start()
        t0 = time.monotonic()
        frames = [source.read(1.0) for _ in range(11)]
        elapsed = time.monotonic() - t0
    assert [f.frame_id for f in frames] == list(range(11))
    assert 0.15 < elapsed < 0.6  # ten periods of 20 ms
    assert frames[3].source_id == "sim:seed=0" and frames[3].metadata["part_index"] == 3


def test_software_trigger_produces_exactly_one_frame_each() -> None:
    with SimLineSource(seed=0, fps=0) as source:
        with pytest.raises(FeatureError, match="trigger_mode"):
            source.software_trigger()
        source.set_feature("trigger_mode", "On")
        source.start()
        assert not source.free_running
        assert source.read(0.05) is None
        source.software_trigger()
        source.software_trigger()
        assert source.read(0.5) is not None and source.read(0.5) is not None
        assert source.read(0.05) is None


def test_fault_injection_disconnect_stall_incomplete() -> None:
    source = SimLineSource(seed=0, fps=0)
    source.start()
    source.inject_fault("incomplete", count=2)
    first, second, third = (source.read(0.5) for _ in range(3))
    assert not first.complete and not second.complete and third.complete
    assert not first.image[200:].any()  # the lower half never arrived
    source.inject_fault("stall", seconds=0.2)
    assert source.read(0.05) is None
    time.sleep(0.2)
    assert source.read(0.5) is not None
    source.inject_fault("disconnect", seconds=0.3)
    with pytest.raises(SourceLostError):
        source.read(0.5)
    source.close()
    with pytest.raises(CameraError, match="simulated disconnect"):
        source.open()
    time.sleep(0.35)
    source.start()
    assert source.read(0.5) is not None
    with pytest.raises(ValueError, match="unknown fault 'fire'"):
        source.inject_fault("fire")
    source.close()


def test_simline_does_not_use_the_training_synthesis() -> None:
    camera = Path(__file__).resolve().parents[1] / "core" / "camera"
    for path in camera.glob("sim*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("core.synth"), path
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("core.synth") for a in node.names), path
