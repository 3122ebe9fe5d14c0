"""Tests for core.synth: Perlin masks, augmenters, texture sources and the DRAEM simulator."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.synth import (
    AUGMENTERS,
    AnomalySimulator,
    FolderTextures,
    ProceduralTextures,
    SimSample,
    TextureSource,
    make_texture_source,
    perlin_mask,
    rand_perlin_2d,
    random_augment,
)
from core.synth import simulator as simulator_module


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def sample_image(h: int = 64, w: int = 64, seed: int = 1) -> np.ndarray:
    """A textured uint8 BGR image with a full range of values."""
    g = rng(seed)
    base = cv2.resize(g.integers(0, 256, (8, 8, 3)).astype(np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(base.astype(np.int16) + g.integers(-20, 21, (h, w, 3)), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- perlin

@pytest.mark.parametrize("shape,res", [((64, 64), (4, 8)), ((100, 77), (8, 16)), ((33, 250), (1, 32))])
def test_perlin_shape_range_and_lattice_zeros(shape, res):
    noise = rand_perlin_2d(shape, res, rng(3))
    assert noise.shape == shape and noise.dtype == np.float32
    assert np.all(np.abs(noise) <= 1.0 + 1e-5)
    assert noise.std() > 0.05
    assert noise[0, 0] == 0.0  # gradient noise vanishes on lattice points
    d0 = -(-shape[0] // res[0])
    d1 = -(-shape[1] // res[1])
    assert np.allclose(noise[::d0, ::d1], 0.0, atol=1e-6)


def test_perlin_is_smooth():
    noise = rand_perlin_2d((128, 128), (4, 4), rng(0))  # 32 px per cell
    assert np.abs(np.diff(noise, axis=0)).max() < 0.15
    assert np.abs(np.diff(noise, axis=1)).max() < 0.15


def test_perlin_rejects_bad_arguments():
    with pytest.raises(ValueError, match="res"):
        rand_perlin_2d((8, 8), (16, 1), rng())
    with pytest.raises(ValueError, match="shape"):
        rand_perlin_2d((0, 8), (1, 1), rng())
    with pytest.raises(ValueError, match="min_exp"):
        perlin_mask((8, 8), rng(), min_exp=3, max_exp=3)


def test_perlin_mask_binary_with_both_values():
    masks = [perlin_mask((96, 80), rng(s)) for s in range(30)]
    for m in masks:
        assert m.shape == (96, 80) and m.dtype == np.float32
        assert set(np.unique(m)) <= {0.0, 1.0}
    stack = np.stack(masks)
    assert stack.min() == 0.0 and stack.max() == 1.0
    coverage = stack.mean(axis=(1, 2))
    assert 0.0 < coverage.mean() < 0.5
    assert coverage.std() > 0.01  # coverage varies from draw to draw


def test_perlin_mask_blob_count_grows_with_scale():
    def blobs(exp: int) -> float:
        counts = [cv2.connectedComponents(perlin_mask((128, 128), rng(s), exp, exp + 1).astype(np.uint8))[0] - 1
                  for s in range(12)]
        return float(np.mean(counts))

    coarse, fine = blobs(0), blobs(5)
    assert coarse < 3
    assert fine > 10 * max(coarse, 1.0)


def test_perlin_determinism():
    assert np.array_equal(perlin_mask((64, 48), rng(7)), perlin_mask((64, 48), rng(7)))
    assert np.array_equal(rand_perlin_2d((50, 50), (5, 5), rng(7)), rand_perlin_2d((50, 50), (5, 5), rng(7)))
    assert not np.array_equal(rand_perlin_2d((50, 50), (5, 5), rng(7)), rand_perlin_2d((50, 50), (5, 5), rng(8)))


# ----------------------------------------------------------------------------- augmenters

def test_exactly_the_ten_paper_augmenters():
    assert set(AUGMENTERS) == {"gamma_contrast", "multiply_add_brightness", "sharpness", "hue_saturation",
                               "solarize", "posterize", "invert", "autocontrast", "equalize", "affine"}


@pytest.mark.parametrize("name", sorted(AUGMENTERS))
def test_augmenter_keeps_shape_dtype_and_input(name):
    img = sample_image(40, 56)
    before = img.copy()
    for seed in range(5):
        out = AUGMENTERS[name](img, rng(seed))
        assert out.shape == img.shape and out.dtype == np.uint8
        assert out is not img
    assert np.array_equal(img, before)
    assert np.array_equal(AUGMENTERS[name](img, rng(9)), AUGMENTERS[name](img, rng(9)))


@pytest.mark.parametrize("name", sorted(AUGMENTERS))
def test_augmenter_rejects_non_uint8(name):
    with pytest.raises(ValueError, match="uint8"):
        AUGMENTERS[name](np.zeros((8, 8, 3), np.float32), rng())


def test_invert_twice_is_identity():
    img = sample_image()
    once = AUGMENTERS["invert"](img, rng())
    assert np.array_equal(once.astype(int), 255 - img.astype(int))
    assert np.array_equal(AUGMENTERS["invert"](once, rng()), img)


def test_gamma_moves_mid_grey_in_the_gamma_direction():
    grey = np.full((8, 8, 3), 128, np.uint8)
    for seed in range(10):
        gammas = rng(seed).uniform(0.5, 2.0, size=3)  # the augmenter's first draw
        out = AUGMENTERS["gamma_contrast"](grey, rng(seed))[0, 0].astype(int)
        expected = np.rint(255 * (128 / 255) ** gammas).astype(int)
        assert np.array_equal(out, expected)
        assert np.all((out < 128) == (gammas > 1.0))


def test_multiply_add_brightness_bounds_on_grey():
    grey = np.full((8, 8, 3), 128, np.uint8)
    values = set()
    for seed in range(20):
        out = AUGMENTERS["multiply_add_brightness"](grey, rng(seed)).astype(int)
        assert out.max() - out.min() <= 3  # stays grey
        assert 128 * 0.8 - 30 - 3 <= out.mean() <= 128 * 1.2 + 30 + 3
        values.add(int(out.mean()))
    assert len(values) > 5


def test_sharpness_direction_follows_factor():
    checker = (np.indices((32, 32)).sum(axis=0) % 2 * 200 + 20).astype(np.uint8)
    img = np.repeat(checker[..., None], 3, axis=2)
    inner = (slice(1, -1), slice(1, -1))
    for seed in range(8):
        factor = rng(seed).uniform(0.0, 2.0)
        out = AUGMENTERS["sharpness"](img, rng(seed))
        contrast_in, contrast_out = img[inner].std(), out[inner].std()
        assert (contrast_out < contrast_in) == (factor < 1.0) or abs(factor - 1.0) < 0.02
    flat = np.full((16, 16, 3), 77, np.uint8)
    assert np.array_equal(AUGMENTERS["sharpness"](flat, rng()), flat)


def test_hue_saturation_keeps_value_channel():
    img = sample_image()
    for seed in range(5):
        out = AUGMENTERS["hue_saturation"](img, rng(seed))
        assert np.abs(out.max(axis=2).astype(int) - img.max(axis=2).astype(int)).max() <= 2
    assert any(not np.array_equal(AUGMENTERS["hue_saturation"](img, rng(s)), img) for s in range(5))


def test_solarize_inverts_only_bright_values_half_the_time():
    img = np.tile(np.arange(256, dtype=np.uint8)[None, :, None], (2, 1, 3))
    applied = 0
    for seed in range(40):
        out = AUGMENTERS["solarize"](img, rng(seed)).astype(int)
        x = img.astype(int)
        assert np.all((out == x) | (out == 255 - x))
        assert np.array_equal(out[:, :32], x[:, :32])  # threshold >= 32
        if not np.array_equal(out, x):
            applied += 1
            assert np.array_equal(out[:, 129:], 255 - x[:, 129:])  # threshold <= 128
    assert 8 <= applied <= 32


def test_posterize_clears_low_bits():
    img = sample_image()
    for seed in range(10):
        bits = int(rng(seed).integers(1, 9))
        out = AUGMENTERS["posterize"](img, rng(seed))
        assert np.array_equal(out, img & np.uint8((0xFF << (8 - bits)) & 0xFF))


def test_autocontrast_and_equalize_stretch_low_contrast_image():
    low = (sample_image().astype(np.float32) * (50 / 255) + 100).astype(np.uint8)  # values 100..150
    for name in ("autocontrast", "equalize"):
        out = AUGMENTERS[name](low, rng(2))
        assert out.max() >= 250 and out.min() <= 30, name
        # monotone per channel: order of pixel values is preserved
        for c in range(3):
            order = np.argsort(low[..., c].ravel(), kind="stable")
            assert np.all(np.diff(out[..., c].ravel()[order].astype(int)) >= 0)


def test_affine_rotation_keeps_size_and_centre():
    img = np.full((41, 61, 3), 200, np.uint8)
    out = AUGMENTERS["affine"](img, rng(4))
    assert out.shape == img.shape
    assert np.array_equal(out[20, 30], img[20, 30])
    angle = rng(4).uniform(-45, 45)
    assert abs(angle) > 5 and out[0, 0].max() < 200  # rotated corner is (at least partly) black border


def test_random_augment_uses_three_distinct_names():
    img = sample_image()
    seen = set()
    for seed in range(30):
        out, names = random_augment(img, rng(seed))
        assert len(names) == 3 and len(set(names)) == 3 and set(names) <= set(AUGMENTERS)
        assert out.shape == img.shape and out.dtype == np.uint8
        seen.update(names)
    assert seen == set(AUGMENTERS)
    out1, n1 = random_augment(img, rng(5))
    out2, n2 = random_augment(img, rng(5))
    assert n1 == n2 and np.array_equal(out1, out2)
    assert len(random_augment(img, rng(), n=5)[1]) == 5
    with pytest.raises(ValueError, match="n must be"):
        random_augment(img, rng(), n=11)


# ----------------------------------------------------------------------------- textures

class ConstantTextures:
    """Test texture source: one solid colour."""

    def __init__(self, bgr=(10, 200, 60)):
        self.bgr = np.array(bgr, np.uint8)

    def sample(self, size, rng):
        return np.broadcast_to(self.bgr, (*size, 3)).copy()


def write_png(path: Path, seed: int, size=(20, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), sample_image(*size, seed=seed))


def test_folder_textures_skips_and_reports_corrupt_files(tmp_path, caplog):
    write_png(tmp_path / "a.png", 1)
    write_png(tmp_path / "sub" / "deeper" / "b.PNG", 2)
    (tmp_path / "garbage.jpg").write_bytes(b"this is not an image at all")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)  # valid header, no data
    (tmp_path / "notes.txt").write_text("ignored")
    with caplog.at_level(logging.WARNING, logger="core.synth.textures"):
        src = FolderTextures(tmp_path)
        assert isinstance(src, TextureSource)
        assert [p.name for p, _ in src.skipped] == ["garbage.jpg"]
        outs = [src.sample((16, 24), rng(s)) for s in range(30)]
    assert all(o.shape == (16, 24, 3) and o.dtype == np.uint8 for o in outs)
    assert sorted(p.name for p, _ in src.skipped) == ["broken.png", "garbage.jpg"]
    assert sorted(p.name for p in src.files) == ["a.png", "b.PNG"]
    assert "garbage.jpg" in caplog.text and "broken.png" in caplog.text
    assert len({o.tobytes() for o in outs}) == 2  # both good images are used
    assert np.array_equal(src.sample((16, 24), rng(3)), src.sample((16, 24), rng(3)))


def test_folder_textures_same_size_is_unchanged_and_cache_is_bounded(tmp_path):
    write_png(tmp_path / "a.png", 1)
    write_png(tmp_path / "b.png", 2)
    write_png(tmp_path / "c.png", 3)
    src = FolderTextures(tmp_path, cache_size=2)
    for s in range(10):
        src.sample((20, 30), rng(s))
        assert len(src._cache) <= 2
    out = src.sample((20, 30), rng(0))
    assert any(np.array_equal(out, sample_image(20, 30, seed=k)) for k in (1, 2, 3))
    clone = pickle.loads(pickle.dumps(src))
    assert len(clone._cache) == 0 and clone.files == src.files
    assert np.array_equal(clone.sample((20, 30), rng(4)), src.sample((20, 30), rng(4)))


def test_folder_textures_empty_or_all_broken_folder_raises(tmp_path):
    empty = tmp_path / "empty_textures"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty_textures"):
        FolderTextures(empty)
    with pytest.raises(ValueError, match="does not exist"):
        FolderTextures(tmp_path / "missing")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 10)
    src = FolderTextures(bad)
    with pytest.raises(ValueError, match="no decodable"):
        src.sample((8, 8), rng())


def test_make_texture_source(tmp_path):
    assert isinstance(make_texture_source(None), ProceduralTextures)
    write_png(tmp_path / "a.png", 1)
    assert isinstance(make_texture_source(tmp_path), FolderTextures)
    assert isinstance(make_texture_source(str(tmp_path)), FolderTextures)


@pytest.mark.parametrize("size", [(64, 64), (37, 61), (5, 7)])
def test_procedural_families_exact_size_and_deterministic(size):
    src = ProceduralTextures()
    assert len(src.FAMILIES) >= 7
    for fam in src.FAMILIES:
        a = src.sample_family(fam, size, rng(11))
        assert a.shape == (*size, 3) and a.dtype == np.uint8 and a.flags.c_contiguous, fam
        assert np.array_equal(a, src.sample_family(fam, size, rng(11))), fam


def test_procedural_textures_are_varied():
    src = ProceduralTextures()
    stats = {}
    for fam in src.FAMILIES:
        imgs = [src.sample_family(fam, (64, 64), rng(s)) for s in range(6)]
        assert all(i.std() > 3 for i in imgs), f"{fam} gives flat textures"
        assert len({i.tobytes() for i in imgs}) == 6, f"{fam} repeats itself"
        stats[fam] = (round(float(np.mean([i.std() for i in imgs])), 1),
                      round(float(np.mean([np.abs(np.diff(i.astype(float), axis=1)).mean() for i in imgs])), 1))
    assert len(set(stats.values())) == len(stats)
    edge_strength = [s[1] for s in stats.values()]
    assert max(edge_strength) > 3 * min(edge_strength)  # smooth and busy families both exist
    picks = {src.sample((16, 16), rng(s)).tobytes() for s in range(20)}
    assert len(picks) == 20
    with pytest.raises(ValueError, match="unknown"):
        ProceduralTextures(families=["nope"])
    only = ProceduralTextures(families=["checker"])
    for seed in range(5):  # checkerboards and grids are two-colour images
        assert len(np.unique(only.sample((16, 16), rng(seed)).reshape(-1, 3), axis=0)) <= 2


# ----------------------------------------------------------------------------- simulator

def grey_image(h=48, w=64) -> np.ndarray:
    ramp = np.linspace(0.1, 0.9, w, dtype=np.float32)[None, :, None]
    return np.repeat(np.repeat(ramp, h, axis=0), 3, axis=2)


def test_simulator_blend_formula_and_untouched_outside(monkeypatch):
    monkeypatch.setattr(simulator_module, "random_augment", lambda tex, rng: (tex, ["none"]))
    tex = ConstantTextures((10, 200, 60))
    sim = AnomalySimulator(tex, rotate_prob=0.0, anomaly_prob=1.0)
    img = grey_image() * np.array([1.0, 0.8, 0.6], np.float32)
    checked = 0
    for seed in range(15):
        s = sim(img, rng(seed))
        assert isinstance(s, SimSample)
        assert s.image.dtype == s.augmented.dtype == s.mask.dtype == np.float32
        assert np.array_equal(s.image, img)
        assert 0.0 <= s.beta <= 0.8
        inside = s.mask > 0.5
        assert np.array_equal(s.augmented[~inside], img[~inside])
        expected = (1 - s.beta) * tex.bgr.astype(np.float32) / 255 + s.beta * img
        assert np.allclose(s.augmented[inside], expected[inside], atol=1e-6)
        assert s.has_anomaly == (1.0 if inside.any() else 0.0)
        checked += int(inside.any())
    assert checked >= 8


def test_simulator_about_half_normal():
    sim = AnomalySimulator(ConstantTextures())
    img = grey_image(32, 32)
    g = rng(123)
    samples = [sim(img, g) for _ in range(200)]
    normal = [s for s in samples if not s.augmenters]
    assert 72 <= len(normal) <= 128  # Binomial(200, 0.5) +- 4 sigma
    for s in normal:
        assert s.has_anomaly == 0.0 and s.mask.sum() == 0 and np.array_equal(s.augmented, s.image)
        assert s.augmented is not s.image
    anomalous = [s for s in samples if s.augmenters]
    assert sum(s.has_anomaly for s in anomalous) >= 0.8 * len(anomalous)
    rotated = sum(not np.array_equal(s.image, img) for s in samples)
    assert 30 <= rotated <= 95  # rotate_prob 0.3 -> 60 expected
    assert all(0.0 <= s.augmented.min() and s.augmented.max() <= 1.0 for s in samples)


def test_simulator_probabilities_at_extremes():
    img = grey_image(24, 24)
    never = AnomalySimulator(ConstantTextures(), anomaly_prob=0.0, rotate_prob=0.0)
    always = AnomalySimulator(ConstantTextures(), anomaly_prob=1.0, rotate_prob=1.0)
    for seed in range(10):
        n = never(img, rng(seed))
        assert n.has_anomaly == 0.0 and np.array_equal(n.image, img)
        a = always(img, rng(seed))
        assert a.augmenters and not np.array_equal(a.image, img)  # always rotated
    for bad in ({"anomaly_prob": 1.5}, {"rotate_prob": -0.1}, {"beta_max": 2.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            AnomalySimulator(ConstantTextures(), **bad)


def test_simulator_grayscale_never_colours():
    img = grey_image()
    coloured = ConstantTextures((255, 0, 40))
    grey_sim = AnomalySimulator(coloured, anomaly_prob=1.0, grayscale=True)
    colour_sim = AnomalySimulator(coloured, anomaly_prob=1.0, grayscale=False)
    saw_colour = False
    for seed in range(10):
        s = grey_sim(img, rng(seed))
        inside = s.mask > 0.5
        a = s.augmented[inside]
        assert np.array_equal(a[:, 0], a[:, 1]) and np.array_equal(a[:, 1], a[:, 2])
        c = colour_sim(img, rng(seed)).augmented
        saw_colour |= bool(np.abs(c[..., 0] - c[..., 1]).max() > 0.05)
    assert saw_colour


def test_simulator_deterministic_and_validates_input():
    sim = AnomalySimulator(ProceduralTextures())
    img = grey_image()
    for seed in range(6):
        a, b = sim(img, rng(seed)), sim(img, rng(seed))
        assert a.augmenters == b.augmenters and a.beta == b.beta
        for field in ("image", "augmented", "mask"):
            assert np.array_equal(getattr(a, field), getattr(b, field))
    with pytest.raises(ValueError, match="uint8"):
        sim((img * 255).astype(np.uint8), rng())
    with pytest.raises(ValueError, match="HxWx3"):
        sim(img[..., 0], rng())
    with pytest.raises(TypeError, match="sample"):
        AnomalySimulator(object())
    clone = pickle.loads(pickle.dumps(sim))
    assert np.array_equal(clone(img, rng(2)).augmented, sim(img, rng(2)).augmented)
