"""Defect-like synthetic anomalies, the anomaly recipes, crops for native-resolution training."""

import numpy as np
import pytest

from core.synth import ProceduralTextures
from core.synth.defects import DEFECT_KINDS, visible
from core.synth.simulator import AnomalySimulator, simulator_for
from core.training.data import SynthDataset, auto_scale, random_crop


def _surface(seed=0, h=96, w=128):
    rng = np.random.default_rng(seed)
    base = 0.45 + 0.05 * rng.standard_normal((h, w, 1)).astype(np.float32)
    return np.clip(np.repeat(base, 3, axis=2), 0, 1)


@pytest.mark.parametrize("kind", sorted(DEFECT_KINDS))
def test_each_kind_changes_the_image_only_inside_its_mask(kind):
    fn = DEFECT_KINDS[kind]
    found = 0
    for seed in range(12):
        image = _surface(seed)
        before = image.copy()
        out, mask = fn(image, np.random.default_rng(seed), _surface(seed + 100))
        np.testing.assert_array_equal(image, before)  # the input is never modified
        assert out.shape == image.shape and out.dtype == np.float32 and mask.shape == image.shape[:2]
        assert set(np.unique(mask)) <= {0.0, 1.0}
        assert 0.0 <= out.min() and out.max() <= 1.0
        if not mask.any():
            continue
        found += 1
        diff = np.abs(out - image).max(axis=2)
        # visibly changed inside; outside, at most a soft rim a few pixels wide
        assert diff[mask > 0].mean() > 0.02
        far = np.ones_like(mask, bool)
        ys, xs = np.nonzero(mask)
        far[max(0, ys.min() - 8):ys.max() + 9, max(0, xs.min() - 8):xs.max() + 9] = False
        assert diff[far].max() < 1e-6
    assert found >= 8, f"{kind}: only {found} of 12 draws made a defect"


def test_cracks_and_scratches_are_thin_and_pits_small():
    areas = {k: [] for k in ("crack", "scratch", "pit")}
    for seed in range(20):
        for k in areas:
            _, m = DEFECT_KINDS[k](_surface(seed, 256, 256), np.random.default_rng(seed))
            areas[k].append(m.mean())
    assert np.median(areas["crack"]) < 0.02 and np.median(areas["scratch"]) < 0.02
    assert np.median(areas["pit"]) < 0.02


def test_kinds_are_size_relative():
    """The same draw on an image twice as large makes a defect about four times the area."""
    small = DEFECT_KINDS["pit"](_surface(0, 128, 128), np.random.default_rng(5))[1].sum()
    large = DEFECT_KINDS["pit"](_surface(0, 256, 256), np.random.default_rng(5))[1].sum()
    assert 2.5 < large / small < 6


def test_visible_drops_mask_where_nothing_changed():
    image = np.ones((32, 32, 3), np.float32)  # a white background cannot be brightened
    out = image.copy()
    out[:16] *= 0.5
    mask = np.ones((32, 32), np.float32)
    kept = visible(image, out, mask)
    assert kept[:12].all() and not kept[20:].any()


def test_the_paper_recipe_draws_exactly_as_before():
    """'paper' is the paper's simulator: same random stream, same samples."""
    tex = ProceduralTextures()
    a = simulator_for("paper", tex)
    b = AnomalySimulator(tex)
    img = _surface(1, 64, 64)
    for seed in range(6):
        sa, sb = a(img, np.random.default_rng(seed)), b(img, np.random.default_rng(seed))
        np.testing.assert_array_equal(sa.augmented, sb.augmented)
        assert sa.kind in ("", "texture")


def test_the_defects_recipe_uses_every_kind_and_labels_them():
    sim = simulator_for("defects", ProceduralTextures())
    seen = {}
    for seed in range(300):
        s = sim(_surface(seed % 7, 64, 64), np.random.default_rng(seed), _surface(99, 64, 64))
        if s.has_anomaly:
            seen[s.kind] = seen.get(s.kind, 0) + 1
            assert s.mask.any()
        else:
            assert not s.mask.any()
    assert set(seen) == {"texture", *DEFECT_KINDS}


def test_unknown_recipe_or_kind_is_refused():
    with pytest.raises(ValueError, match="anomaly recipe"):
        simulator_for("sparkles", ProceduralTextures())
    with pytest.raises(ValueError, match="anomaly kinds"):
        AnomalySimulator(ProceduralTextures(), kinds={"sparkle": 1.0})


def test_random_crop_is_a_true_crop_anywhere_and_pads_small_images():
    image = np.arange(100 * 80, dtype=np.int32).reshape(100, 80)
    rng = np.random.default_rng(0)
    origins = set()
    for _ in range(400):
        c = random_crop(image, 32, rng)
        assert c.shape == (32, 32)
        y, x = divmod(int(c[0, 0]), 80)
        np.testing.assert_array_equal(c, image[y:y + 32, x:x + 32])  # a true crop
        origins.add((y, x))
    ys, xs = [o[0] for o in origins], [o[1] for o in origins]
    assert 0 <= min(ys) <= 3 and 65 <= max(ys) <= 68 and 0 <= min(xs) <= 3 and 45 <= max(xs) <= 48
    small = random_crop(np.ones((10, 20, 3), np.uint8), 32, rng)
    assert small.shape == (32, 32, 3) and (small == 1).all()


def test_crops_show_the_image_edges_about_as_often_as_its_middle():
    from core.training.data import crop_origin

    rng = np.random.default_rng(1)
    for length, size in ((256, 128), (180, 128), (128, 128), (600, 32)):
        seen = np.zeros(length)
        for _ in range(20000):
            o = crop_origin(length, size, rng, 1.0)
            assert 0 <= o <= length - size
            seen[o:o + size] += 1
        # a uniform origin would show the first pixel in 1 crop of length - size + 1
        assert seen.max() / seen.min() < (2.3 if length >= 2 * size else 3.0), (length, size)  # 2 and noise
        assert min(seen[0], seen[-1]) > 0.38 * seen[length // 2]  # 1 in 129 before
    ends = {reach: 0 for reach in (0.0, 0.5)}
    for reach in ends:
        for _ in range(20000):
            o = crop_origin(256, 128, rng, reach)
            assert 0 <= o <= 128
            ends[reach] += o in (0, 128)
    assert ends[0.0] < 20000 * 3 / 129  # uniform: 2 origins of 129
    assert 20000 * 0.45 < ends[0.5] < 20000 * 0.55  # 2 x 64 of the 257 draws clamp to an end


def test_crop_reach_is_validated_and_reaches_the_dataset():
    from core.training.presets import get_preset

    assert get_preset("fast").crop_reach == 0.0 and get_preset("thorough").crop_reach == 0.0
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="crop_reach must be in"):
            get_preset("fast", crop_reach=bad)
    x = np.broadcast_to(np.arange(256, dtype=np.uint8)[None, :, None], (32, 256, 3)).copy()
    at_left = {}
    for reach in (0.0, 1.0):
        ds = SynthDataset([x], simulator_for("defects", ProceduralTextures()), crop=32, reach=reach)
        origins = [round(float(ds[k]["image"][0, 0, 0]) * 255) for k in range(200)]
        at_left[reach] = sum(o == 0 for o in origins)
    assert at_left[0.0] <= 5 < 10 <= at_left[1.0]  # 1 in 225 against 32 in 287


def test_tile_share_crops_are_the_inference_tiles_and_zero_changes_nothing():
    from core.inference.tiling import axis_origins
    from core.training.presets import get_preset

    # a frame whose pixel value says where it is: row in channel 0, column in channel 1
    h, w = 200, 300
    x = np.zeros((h, w, 3), np.uint8)
    x[..., 0] = np.arange(h)[:, None]
    x[..., 1] = np.arange(w)[None, :]
    tiles = {(y, c) for y in axis_origins(h, 128, 16) for c in axis_origins(w, 128, 16)}
    assert len(tiles) == 6
    rng = np.random.default_rng(0)
    origins = [tuple(int(v) for v in random_crop(x, 128, rng, 0.0, 0.5, 16)[0, 0, :2]) for _ in range(2000)]
    on_tiles = sum(o in tiles for o in origins)
    assert 0.45 * 2000 < on_tiles < 0.60 * 2000  # half by the share, a few uniform ones by chance
    assert {o for o in origins if o in tiles} == tiles  # every tile is drawn
    # share 0 draws from the generator exactly what the sampling before the field did
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(50):
        assert np.array_equal(random_crop(x, 64, a, 0.3, 0.0, 16), random_crop(x, 64, b, 0.3))
    assert a.random() == b.random()
    assert get_preset("fast").tile_share == 0.3 and get_preset("paper").tile_share == 0.0
    for bad in (-0.5, 1.01, float("nan")):
        with pytest.raises(ValueError, match="tile_share must be in"):
            get_preset("fast", tile_share=bad)


def test_crop_dataset_is_deterministic_and_takes_images_of_any_size():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for h, w in ((100, 70), (50, 200), (40, 40))]
    ds = SynthDataset(images, simulator_for("defects", ProceduralTextures()), seed=3, crop=32)
    a, b = ds[11], ds[11]
    assert all((a[k] == b[k]).all() for k in a)
    assert a["augmented"].shape == (3, 32, 32) and a["mask"].shape == (1, 32, 32)
    with pytest.raises(ValueError, match="differ in size"):
        SynthDataset(images, simulator_for("paper", ProceduralTextures()), seed=3)


def test_auto_scale_keeps_camera_pixels_unless_frames_are_large():
    assert auto_scale([(300, 400, 3), (200, 600)]) == 1.0          # no limit: camera pixels
    assert auto_scale([(300, 400, 3), (200, 600)], 512) == 1.0
    assert auto_scale([(2048, 2448)] * 3, 512) == pytest.approx(512 / 2448, abs=1e-4)
    assert auto_scale([(100, 200), (400, 400), (400, 600)], 256) == pytest.approx(256 / 400, abs=1e-4)
    with pytest.raises(ValueError, match="max_side"):
        auto_scale([(10, 10)], -1)
